"""The benchmarks `longform eval` knows, by name, and the one selection every method gets."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from longform.errors import UserError
from longform.eval.samples import Sample, file_digest, filter_lang, filter_lengths, resolve_data, round_robin

# name -> module: NAME, FILE, GROUPS ((report title, Sample attribute), ...), load(path), strata(sample),
# optionally score(sample, text) -> dict of extra scores and DATA_HINT.
BENCHMARKS: dict[str, str] = {
    "longbench-write": "longform.eval.longbench_write",
    "ruler": "longform.eval.ruler",
    "longen": "longform.eval.longen",
    "constraints": "longform.eval.constraints",
}


def names() -> list[str]:
    return list(BENCHMARKS)


def get(name: str) -> ModuleType:
    if name not in BENCHMARKS:
        raise UserError(f"unknown benchmark {name!r}: use one of {', '.join(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name])


@dataclass
class Selection:
    benchmark: str
    data: Path
    digest: str
    samples: list[Sample]


def select(name: str, *, data: str | Path | None = None, lang: str | None = None, lengths: list[int] | None = None,
           limit: int | None = None) -> Selection:
    """The benchmark's samples after --lang and --lengths, then at most --limit of them spread over
    the benchmark's strata (length, language, constraint type), in a fixed order."""
    mod = get(name)
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    path = resolve_data(mod.FILE, data) if not hasattr(mod, "data_path") else mod.data_path(data)
    samples = mod.load(path)
    samples = filter_lang(samples, lang)
    if not samples:
        raise UserError(f"{name} has no {lang} prompt in {path}")
    samples = filter_lengths(samples, lengths, name)
    return Selection(name, path, file_digest(path), round_robin(samples, mod.strata, limit))
