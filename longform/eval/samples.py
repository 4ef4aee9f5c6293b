"""What every benchmark shares: the `Sample` type, where the benchmark files are, reading them, and
the selection (`--lang`, `--lengths`, `--limit`) that gives every method the same prompts."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longform.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sample:
    """One benchmark prompt, as every method receives it."""

    id: str  # stable across runs: benchmark, language and row number in the file
    benchmark: str
    index: int  # row in the data file (0-based)
    prompt: str
    lang: str  # "en" | "zh"
    required_words: int  # S_l's required length, and the scatter plot's x
    target_words: int  # the length the writer is asked for
    bucket: str  # the length bucket the report groups by
    kind: str | None = None  # LonGen constraint type, LongBench-Write task type, ...
    interval: tuple[float, float] | None = None  # [lo, hi] when the benchmark states an interval
    extra: dict[str, Any] = field(default_factory=dict)  # benchmark-specific (e.g. unit requirements)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["interval"] = list(self.interval) if self.interval else None
        return d


def data_dir() -> Path:
    """The benchmark folder: $LONGFORM_BENCHMARKS, else ../shared/benchmarks beside the checkout."""
    env = os.environ.get("LONGFORM_BENCHMARKS")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "benchmarks"


def resolve_data(name: str, override: str | Path | None) -> Path:
    path = Path(override) if override else data_dir() / name
    if not path.is_file():
        hint = "check --data" if override else "pass --data FILE or set LONGFORM_BENCHMARKS to the benchmark folder"
        raise UserError(f"benchmark file not found: {path}; {hint}")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read benchmark file {path}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{n}: not valid JSON ({exc.msg}); fix or remove that line") from None
        if not isinstance(row, dict):
            raise UserError(f"{path}:{n}: expected a JSON object per line")
        rows.append(row)
    return rows


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def length_bucket(words: int) -> str:
    """LongBench-Write's output-length buckets: [0, 500), [500, 2k), [2k, 4k), [4k, ...)."""
    for hi, label in ((500, "<500"), (2000, "500-2k"), (4000, "2k-4k")):
        if words < hi:
            return label
    return ">=4k"


def short_length(words: int) -> str:
    return f"{words // 1000}k" if words % 1000 == 0 and words >= 1000 else str(words)


def round_robin(samples: list[Sample], key: Callable[[Sample], Hashable], limit: int | None) -> list[Sample]:
    """At most `limit` samples, taken one group at a time (groups by `key`, in sorted order; file
    order inside a group), so a subset covers every group as evenly as it can. No limit: all."""
    if limit is None or limit >= len(samples):
        return list(samples)
    groups: dict[Hashable, list[Sample]] = {}
    for s in samples:
        groups.setdefault(key(s), []).append(s)
    order = sorted(groups, key=lambda k: k if isinstance(k, tuple) else (k,))
    picked: list[Sample] = []
    rnd = 0
    while len(picked) < limit:
        for k in order:
            if rnd < len(groups[k]) and len(picked) < limit:
                picked.append(groups[k][rnd])
        rnd += 1
    return picked


def filter_lang(samples: Iterable[Sample], lang: str | None) -> list[Sample]:
    return [s for s in samples if lang is None or s.lang == lang]


def filter_lengths(samples: Iterable[Sample], lengths: list[int] | None, what: str) -> list[Sample]:
    """Keep the samples whose required length is one of `lengths`; a length no sample has is an error."""
    samples = list(samples)
    if not lengths:
        return samples
    have = sorted({s.required_words for s in samples})
    missing = [n for n in lengths if n not in have]
    if missing:
        raise UserError(f"--lengths {','.join(map(str, missing))}: {what} has no prompt of that length; "
                        f"its lengths are {','.join(map(str, have))}")
    return [s for s in samples if s.required_words in lengths]
