"""What makes a killed iteration resume without redoing finished work.

- `Journal`: a JSONL file of finished items, appended one line at a time, flushed and fsynced; a
  line torn by a kill is ignored (and overwritten by the next append). A step reads it to skip the
  items it already finished.
- `StepState`: the iteration's `state.json` (written atomically): which steps are done, with their
  summaries. A step marked done is never run again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from longform.shard_store import atomic_write_text


class Journal:
    def __init__(self, path: str | Path, key: str = "id"):
        self.path = Path(path)
        self.key = key

    def load(self) -> dict[str, dict[str, Any]]:
        """Finished items by key, in file order (a torn last line is dropped from the file)."""
        items: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return items
        raw = self.path.read_bytes()
        good = 0
        for line in raw.splitlines(keepends=True):
            try:
                item = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            if not line.endswith(b"\n"):
                break
            items[str(item[self.key])] = item
            good += len(line)
        if good < len(raw):
            with self.path.open("r+b") as f:
                f.truncate(good)
        return items

    def append(self, item: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def write_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """A whole JSONL file, written atomically (temp file, fsync, rename)."""
    atomic_write_text(Path(path), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


class StepState:
    def __init__(self, iter_dir: str | Path):
        self.path = Path(iter_dir) / "state.json"
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.is_file() else {"steps": {}}

    def done(self, step: str) -> bool:
        return bool(self.data["steps"].get(step, {}).get("done"))

    def summary(self, step: str) -> dict[str, Any]:
        return dict(self.data["steps"].get(step, {}).get("summary") or {})

    def mark(self, step: str, summary: dict[str, Any], elapsed_s: float) -> None:
        self.data["steps"][step] = {"done": True, "summary": summary, "elapsed_s": round(elapsed_s, 2),
                                    "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.data, ensure_ascii=False, indent=2) + "\n")

    def note(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.data, ensure_ascii=False, indent=2) + "\n")
