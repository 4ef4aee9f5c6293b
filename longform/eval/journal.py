"""What an eval folder keeps on disk so that a re-run resumes and never generates a sample twice.

    eval.json          the manifest: benchmark, selection, seed (the eval's identity), the sample
                       ids, and every method, model and judge used so far
    generations.jsonl  one line per finished or failed (model, method, sample): the text, usage, time
    judgements.jsonl   one line per judged (model, method, sample, judge)
    runs/MODEL/METHOD/SAMPLE/checkpoint.sqlite   the pipeline's checkpoint (a killed sample resumes)

Journal lines are appended with flush + fsync; a kill can tear only the last line, which the
reader skips (that sample is then resumed from its checkpoint).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from longform.errors import UserError
from longform.llm.redact import redact
from longform.run_record import read_json, write_json

MANIFEST = "eval.json"
GENERATIONS = "generations.jsonl"
JUDGEMENTS = "judgements.jsonl"
RUNS = "runs"
KIND = "longform-eval"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def slug(text: str) -> str:
    """A folder-safe name for a model spec or method ("openai:gpt-4o" -> "openai-gpt-4o")."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return s[:80] or "model"


def gen_key(model: str, method: str, sample_id: str) -> str:
    return f"{model}|{method}|{sample_id}"


def judge_key(model: str, method: str, sample_id: str, judge: str) -> str:
    return f"{model}|{method}|{sample_id}|{judge}"


class Journal:
    """An append-only JSONL file of records keyed by `key`; the last record of a key wins."""

    def __init__(self, path: Path):
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from a kill: that sample runs again (from its checkpoint)
                if isinstance(rec, dict) and "key" in rec:
                    self.records[rec["key"]] = rec

    def get(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def append(self, record: dict[str, Any]) -> None:
        record = redact(record)
        line = json.dumps(record, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.records[record["key"]] = record


def describe(identity: dict[str, Any]) -> str:
    parts = [identity["benchmark"]]
    for k in ("lang", "lengths", "limit"):
        if identity.get(k):
            v = identity[k]
            parts.append(f"--{k} {','.join(map(str, v)) if isinstance(v, list) else v}")
    parts.append(f"seed {identity.get('seed')}")
    return " ".join(parts)


def open_manifest(out: Path, identity: dict[str, Any], sample_ids: list[str]) -> dict[str, Any]:
    """The eval folder's manifest: a new one for an empty folder, the existing one when it holds the
    same eval; a UserError when the folder holds another eval or other files."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    path = out / MANIFEST
    if path.exists():
        try:
            manifest = read_json(path)
        except (OSError, ValueError) as exc:
            raise UserError(f"--out {out}: cannot read {MANIFEST} ({exc}); use a new --out folder") from None
        if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
            raise UserError(f"--out {out}: {MANIFEST} is not a longform eval manifest; use a new --out folder")
        theirs = manifest.get("identity", {})
        if theirs != identity:
            raise UserError(f"--out {out} holds another eval ({describe(theirs)}), not {describe(identity)}; "
                            "use a new --out folder or the same flags")
        if manifest.get("sample_ids") != sample_ids:
            raise UserError(f"--out {out}: the benchmark file's prompts changed since this eval began; "
                            "use a new --out folder")
        return manifest
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out} is not empty and holds no eval; use an empty or new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --out {out}: {exc.strerror}") from None
    return {"kind": KIND, "identity": identity, "sample_ids": sample_ids, "methods": [], "models": [],
            "judges": [], "created_at": now(), "sessions": []}


LOCK = ".eval.lock"


def lock(out: Path) -> Any:
    """Hold the eval folder for this run (released when the process ends, however it ends): two runs
    appending to one journal and rewriting one manifest would lose each other's methods."""
    import fcntl

    f = (out / LOCK).open("a+", encoding="utf-8")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise UserError(f"--out {out} is in use by another eval run (pid {holder}); wait for it to finish, "
                        "or stop it (it resumes later), or use another folder") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


def save_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / MANIFEST, manifest)


def merge_names(have: list[str], new: list[str]) -> list[str]:
    return have + [n for n in new if n not in have]
