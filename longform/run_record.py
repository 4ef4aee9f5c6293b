"""The files a manuscript run leaves in its output folder, written atomically (temp + fsync + rename).

    manuscript.md      YAML front matter (method, model, target and actual words, S_l; the stated
                       interval and LonGen score when the instruction states a length) + the text
    plan.json          the plan (sections, budgets) and how it was made (fallback used or not)
    run.json           config, seeds, usage, timings, per-section words, status; never secrets
    calls.jsonl        every model call (written by the LLM layer's call log)
    checkpoint.sqlite  the LangGraph checkpointer (what --resume continues from)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from longform.llm.redact import redact
from longform.scores import length_score, longen_score

MANUSCRIPT = "manuscript.md"
PLAN = "plan.json"
RUN = "run.json"
CALLS = "calls.jsonl"
CHECKPOINT = "checkpoint.sqlite"
RUN_FILES = (MANUSCRIPT, PLAN, RUN, CALLS, CHECKPOINT, CHECKPOINT + "-wal", CHECKPOINT + "-shm", CHECKPOINT + "-journal")



def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json(path: str | Path, value: Any) -> None:
    write_atomic(path, json.dumps(redact(value), ensure_ascii=False, indent=2) + "\n")


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def front_matter(meta: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000).strip() + "\n---\n"


def manuscript_meta(*, method: str, model: str, instruction: str, target_words: int, words: int, lang: str, seed: Any,
                    length: dict[str, Any] | None = None) -> dict[str, Any]:
    """Front matter. `length`: the instruction's stated length (longform.lengths.LengthSpec.to_dict());
    with it the front matter records the interval and the LonGen score beside S_l."""
    meta = {
        "method": method,
        "model": model,
        "instruction": instruction,
        "language": lang,
        "target_words": int(target_words),
        "words": int(words),
        "length_score": round(length_score(target_words, words), 2) if target_words > 0 else None,
    }
    if length:
        meta["stated_length"] = {"kind": length["kind"], "length": int(length["length"]),
                                 "lo": float(length["lo"]), "hi": float(length["hi"])}
        meta["longen_score"] = round(longen_score(int(words), float(length["lo"]), float(length["hi"])), 4)
    meta["seed"] = seed
    return meta


def write_manuscript(out_dir: str | Path, body: str, meta: dict[str, Any]) -> Path:
    path = Path(out_dir) / MANUSCRIPT
    write_atomic(path, front_matter(redact(meta)) + "\n" + body.strip() + "\n")
    return path


def read_manuscript(path: str | Path) -> tuple[dict[str, Any], str]:
    """(front matter, body) of a manuscript.md."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}, text
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {}, text[end + 5 :].lstrip("\n")


def write_plan(out_dir: str | Path, plan: list[dict[str, Any]], meta: dict[str, Any], target_words: int) -> Path:
    path = Path(out_dir) / PLAN
    write_json(
        path,
        {
            "target_words": int(target_words),
            "sections": plan,
            "planned_words": sum(int(s.get("words", 0)) for s in plan),
            "fallback": bool(meta.get("fallback", False)),
            "meta": meta,
        },
    )
    return path


def write_run(out_dir: str | Path, record: dict[str, Any]) -> Path:
    path = Path(out_dir) / RUN
    write_json(path, record)
    return path


def read_run(out_dir: str | Path) -> dict[str, Any] | None:
    path = Path(out_dir) / RUN
    if not path.is_file():
        return None
    return read_json(path)


def existing_run_files(out_dir: str | Path) -> list[Path]:
    d = Path(out_dir)
    return [d / name for name in RUN_FILES if (d / name).exists()]


def wipe_run(out_dir: str | Path) -> list[str]:
    """Delete an old run's files (only the files a run writes; anything else in the folder stays)."""
    removed = []
    for p in existing_run_files(out_dir):
        p.unlink()
        removed.append(p.name)
    for p in Path(out_dir).glob(".*.tmp"):
        p.unlink()
    return removed
