"""Training data: read a split from a `longform dataset` folder or any Parquet / JSONL / `save_to_disk`
folder or file, check its columns for a trainer, fingerprint the bytes it came from.

Files are read with pyarrow (no `datasets` cache keyed by folder name, which goes stale when a
dataset folder is rebuilt in place).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from longform.errors import UserError

PARQUET = (".parquet",)
JSONL = (".jsonl", ".json")


def _files(root: Path) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in PARQUET + JSONL)
    return [p for p in files if not any(part.startswith(".") for part in p.relative_to(root).parts)]


def locate(path: str | Path, split: str) -> tuple[Path, list[Path], str]:
    """(root, data files, format) for a dataset path and the split a trainer wants."""
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"training data {p} does not exist; pass a `longform dataset` folder or a Parquet/JSONL file")
    if p.is_file():
        if p.suffix not in PARQUET + JSONL:
            raise UserError(f"training data {p}: unsupported file type {p.suffix!r}; use .parquet or .jsonl")
        return p, [p], "parquet" if p.suffix in PARQUET else "jsonl"
    if (p / "dataset_info.json").is_file() and (p / "state.json").is_file():
        return p, sorted(p.glob("*.arrow")), "disk"
    if (p / split).is_dir():
        p = p / split
    elif (p / "raw").is_dir() and (p / "sft").is_dir():  # a longform dataset folder without the wanted split
        raise UserError(f"dataset folder {p} has no `{split}` split; build it with `longform dataset build` "
                        "or set `split` to one that exists")
    files = _files(p)
    if not files:
        raise UserError(f"training data folder {p} holds no .parquet or .jsonl files")
    kinds = {"parquet" if f.suffix in PARQUET else "jsonl" for f in files}
    if len(kinds) > 1:
        raise UserError(f"training data folder {p} mixes Parquet and JSONL files; keep one format per folder")
    return p, files, kinds.pop()


def fingerprint(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def read_rows(path: str | Path, split: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All rows of the split, and a description (where, files, fingerprint) for the training record."""
    root, files, fmt = locate(path, split)
    if fmt == "disk":
        from datasets import load_from_disk

        rows = list(load_from_disk(str(root)))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        rows = []
        for f in files:
            rows += pq.read_table(f).to_pylist()
    else:
        rows = []
        for f in files:
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise UserError(f"{f}:{n}: not valid JSON ({exc.msg}); fix or remove that line") from None
    info = {"path": str(root), "format": fmt, "files": [str(f) for f in files], "rows": len(rows),
            "fingerprint": fingerprint(files)}
    return rows, info


def require_columns(rows: list[dict[str, Any]], alternatives: list[tuple[str, ...]], where: str, kind: str) -> tuple[str, ...]:
    """The first column set in `alternatives` that every row has; a UserError naming what is missing otherwise."""
    if not rows:
        raise UserError(f"training data {where} has no rows; `train {kind}` needs at least one example")
    cols = set(rows[0])
    for alt in alternatives:
        if set(alt) <= cols:
            for i, r in enumerate(rows):
                empty = [c for c in alt if r.get(c) in (None, "", [])]
                if empty:
                    raise UserError(f"training data {where}: row {i} has no value in column(s) {', '.join(empty)}; "
                                    "remove or fix that row")
            return alt
    want = " or ".join("(" + ", ".join(a) + ")" for a in alternatives)
    raise UserError(f"training data {where} has columns {', '.join(sorted(cols)) or 'none'}; `train {kind}` needs {want} "
                    f"(the `{kind}` split of a `longform dataset` folder has them)")


def as_messages(value: Any, role: str) -> list[dict[str, str]]:
    """A conversational value as messages: a string becomes one message of `role`."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if isinstance(value, list) and all(isinstance(m, dict) and "role" in m and "content" in m for m in value):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    raise UserError(f"expected a string or a list of {{role, content}} messages, got {type(value).__name__}")


def split_eval(rows: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A seeded shuffle, then the last `fraction` (at least one row) held out."""
    import random

    if fraction <= 0:
        return rows, []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(rows) * fraction))
    if n_eval >= len(rows):
        raise UserError(f"eval_fraction {fraction} leaves no training rows out of {len(rows)}; lower it")
    held = set(order[-n_eval:])
    return [r for i, r in enumerate(rows) if i not in held], [r for i, r in enumerate(rows) if i in held]
