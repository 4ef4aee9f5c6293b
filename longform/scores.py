"""The published length metrics: LongBench-Write S_l and the LonGen interval score."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LONGEN_TYPES",
    "constraint_length",
    "interval_for_record",
    "length_score",
    "longen_interval",
    "longen_score",
    "parse_range",
]

LONGEN_TYPES: tuple[str, ...] = ("about", "above", "below", "range")

_NUMBER = r"\d+(?:,\d{3})*"
_UNIT = r"(?:字|words?)?"
_RANGE_RE = re.compile(
    rf"^\s*({_NUMBER})\s*{_UNIT}\s*(?:-|–|—|~|～|to|至|到)\s*({_NUMBER})\s*{_UNIT}\s*$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(_NUMBER)


def length_score(required: int, actual: int) -> float:
    """LongBench-Write S_l in [0, 100] for a required length and an actual length (in words)."""
    if required <= 0:
        raise ValueError(f"required length must be > 0, got {required}")
    if actual < 0:
        raise ValueError(f"actual length must be >= 0, got {actual}")
    if actual == 0:
        return 0.0
    if actual > required:
        return 100.0 * max(0.0, 1.0 - (actual / required - 1.0) / 3.0)
    return 100.0 * max(0.0, 1.0 - (required / actual - 1.0) / 2.0)


def _to_int(number: str) -> int:
    return int(number.replace(",", ""))


def parse_range(text: str) -> tuple[int, int]:
    """Parse a stated word range such as ``"2000-3000 words"`` or ``"2000字至3000字"``."""
    m = _RANGE_RE.match(text)
    if m is None:
        raise ValueError(
            f"not a word range: {text!r} (expected e.g. '2000-3000 words' or '2000字至3000字'; "
            "LonGen's 'range' field, e.g. '2-4k', is a length bucket: the interval is in 'constraint')"
        )
    return _to_int(m.group(1)), _to_int(m.group(2))


def constraint_length(constraint: str) -> int:
    """The first number in a length constraint, e.g. 2000 in ``"大约2000字"`` or ``"around 2000 words"``."""
    m = _NUMBER_RE.search(constraint)
    if m is None:
        raise ValueError(f"no length in constraint {constraint!r}")
    return _to_int(m.group())


def longen_interval(
    constraint_type: str, length: int, range_: tuple[int, int] | str | None = None
) -> tuple[float, float]:
    """The LonGen target interval [lo, hi] for a constraint type and length L.

    about = [0.8L, 1.2L], above = [L, 1.5L], below = [0.5L, L]; range = ``range_`` as stated
    (a pair, or a string that :func:`parse_range` reads), and ``length`` is then ignored.
    """
    kind = constraint_type.strip().lower()
    if kind not in LONGEN_TYPES:
        raise ValueError(
            f"unknown LonGen constraint type {constraint_type!r}; valid types: {', '.join(LONGEN_TYPES)}"
        )
    if kind == "range":
        if range_ is None:
            raise ValueError("constraint type 'range' needs range_ (lo, hi)")
        lo, hi = parse_range(range_) if isinstance(range_, str) else range_
        if not 0 < lo <= hi:
            raise ValueError(f"range must satisfy 0 < lo <= hi, got ({lo}, {hi})")
        return float(lo), float(hi)
    if length <= 0:
        raise ValueError(f"length must be > 0, got {length}")
    factors = {"about": (0.8, 1.2), "above": (1.0, 1.5), "below": (0.5, 1.0)}[kind]
    return factors[0] * length, factors[1] * length


def longen_score(actual: int, lo: float, hi: float) -> float:
    """LonGen length score in [0, 1]: 1 inside [lo, hi], falling linearly to 0 outside."""
    if not 0 < lo <= hi:
        raise ValueError(f"interval must satisfy 0 < lo <= hi, got [{lo}, {hi}]")
    if actual < lo:
        return max(0.0, 2.0 * actual / lo - 1.0)
    if actual > hi:
        return max(0.0, 3.0 - 2.0 * actual / hi)
    return 1.0


def interval_for_record(record: Mapping[str, Any]) -> tuple[float, float]:
    """The target interval of one longen.jsonl row, read from its ``type`` and ``constraint``."""
    kind = str(record["type"])
    constraint = str(record["constraint"])
    if kind.strip().lower() == "range":
        return longen_interval(kind, 0, parse_range(constraint))
    return longen_interval(kind, constraint_length(constraint))
