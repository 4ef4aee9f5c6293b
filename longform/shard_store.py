"""Shard store: durable, resumable storage of finished records for a batch job.

A work folder holds
    journal.jsonl            one line per finished record: {"id", "status", "reason", "part"}
    parts/part-00000.parquet finished records, a few per part (columns id, status, reason, data)

Protocol (so that a kill -9 at any instant neither loses nor duplicates a record):
1. buffered rows are written to `part-NNNNN.parquet.tmp`, flushed and fsynced;
2. the temp file is renamed to `part-NNNNN.parquet` and the folder fsynced (the rename is atomic:
   a part is either complete or absent);
3. only then the ids of the part are appended to the journal, one fsynced write.
On open: leftover `.tmp` files are deleted; a torn last journal line (a kill in the middle of
step 3) is cut off; a part present on disk whose ids the journal lacks (a kill between 2 and 3) is
journaled now. Readers take every part in order and keep the last row of each id.

`atomic_write_bytes` / `atomic_write_parquet` / `replace_dir` apply the same temp-fsync-rename rule
to the final outputs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PART_GLOB = "part-*.parquet"


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, table: Any) -> None:
    """Write a pyarrow Table to `path` via a fsynced temp file and a rename."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pq.write_table(table, f, compression="zstd")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def replace_dir(target: Path, build: Any) -> None:
    """Build a folder's new content in a sibling temp folder (`build(tmp_dir)`), fsync it, swap it in."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_dir(tmp)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def clean_stale(parent: Path) -> None:
    """Remove temp folders left by a killed `replace_dir` (and restore a target lost between renames)."""
    if not parent.exists():
        return
    for p in parent.iterdir():
        if p.name.startswith(".") and ".tmp-" in p.name:
            shutil.rmtree(p, ignore_errors=True)
    for p in parent.iterdir():
        if p.name.startswith(".") and ".old-" in p.name:
            target = parent / p.name[1:].split(".old-")[0]
            if not target.exists():
                os.replace(p, target)
            else:
                shutil.rmtree(p, ignore_errors=True)


class ShardStore:
    """Journal + atomic Parquet parts in one work folder. Single writer per folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.parts_dir = self.root / "parts"
        self.journal_path = self.root / "journal.jsonl"
        self.entries: dict[str, dict[str, Any]] = {}  # id -> last journal entry
        self.recovered: dict[str, int] = {"tmp_removed": 0, "torn_journal_lines": 0, "parts_journaled": 0}
        self._next_part = 0

    # -- opening and recovery -------------------------------------------------------------------

    def open(self) -> ShardStore:
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts_dir.glob("*.tmp"):
            tmp.unlink()
            self.recovered["tmp_removed"] += 1
        self._read_journal()
        parts = self.part_paths()
        for part in parts:
            # A part on disk whose ids the journal lacks (or has only in an older part: a retried
            # record) was renamed into place but the kill came before its journal write.
            missing = [r for r in read_part(part)
                       if r["id"] not in self.entries or self.entries[r["id"]]["part"] < part.name]
            if missing:
                self._journal([{"id": r["id"], "status": r["status"], "reason": r["reason"], "part": part.name}
                               for r in missing])
                self.recovered["parts_journaled"] += 1
        # Journal entries pointing to a part that does not exist cannot come from this protocol;
        # treat those records as not done so they are written again.
        names = {p.name for p in parts}
        for rid in [rid for rid, e in self.entries.items() if e["part"] not in names]:
            del self.entries[rid]
        self._next_part = 1 + max((int(p.stem.split("-")[1]) for p in parts), default=-1)
        return self

    def _read_journal(self) -> None:
        if not self.journal_path.exists():
            return
        data = self.journal_path.read_bytes()
        good_end = 0
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break  # torn last line: no newline
            line = data[pos:nl]
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                break
            if isinstance(e, dict) and "id" in e and "part" in e:
                self.entries[e["id"]] = e
            pos = good_end = nl + 1
        if good_end < len(data):
            self.recovered["torn_journal_lines"] += 1
            with open(self.journal_path, "r+b") as f:
                f.truncate(good_end)
                f.flush()
                os.fsync(f.fileno())

    # -- writing --------------------------------------------------------------------------------

    def _journal(self, entries: list[dict[str, Any]]) -> None:
        payload = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
        with open(self.journal_path, "ab") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        for e in entries:
            self.entries[e["id"]] = e

    def write_part(self, rows: list[dict[str, Any]]) -> Path | None:
        """Durably store finished records (dicts with id, status, reason and anything JSON-able),
        then journal their ids. Returns the part's path (None for no rows)."""
        if not rows:
            return None
        import pyarrow as pa

        table = pa.table({
            "id": [r["id"] for r in rows],
            "status": [r["status"] for r in rows],
            "reason": [r.get("reason") or "" for r in rows],
            "data": [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows],
        })
        path = self.parts_dir / f"part-{self._next_part:05d}.parquet"
        self._next_part += 1
        atomic_write_parquet(path, table)
        self._journal([{"id": r["id"], "status": r["status"], "reason": r.get("reason") or "", "part": path.name}
                       for r in rows])
        return path

    # -- reading --------------------------------------------------------------------------------

    def part_paths(self) -> list[Path]:
        return sorted(self.parts_dir.glob(PART_GLOB))

    def done_ids(self, include_failed: bool = True) -> set[str]:
        return {rid for rid, e in self.entries.items() if include_failed or e["status"] != "failed"}

    def rows(self) -> dict[str, dict[str, Any]]:
        return latest_rows(self.part_paths())


def read_part(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["id", "status", "reason", "data"])
    return t.to_pylist()


def iter_records(parts: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for p in parts:
        for r in read_part(p):
            yield json.loads(r["data"])


def latest_rows(parts: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """id -> record, the last written row of each id winning (parts are read in order)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in iter_records(parts):
        out[rec["id"]] = rec
    return out
