"""Length rewards: S_l (LongBench-Write), the LonGen interval score, and a LongWriter-Zero range reward.

S_l and the LonGen score come from `longform.scores` (one implementation); this module adds the
range reward used for ranking and RL, and resolves the target:

    range_reward(words, lo, hi, cap)  1 inside [lo, hi]; words/lo below lo; above hi it falls
                                      linearly from 1 at hi to 0 at cap * hi (0 beyond)

The target of a response comes from the record (N target words = "about N", a (lo, hi) range, or a
LengthSpec / its dict) or, when none is given, from the instruction through the one length parser
(`longform.lengths.parse_length`). An instruction that states no length and no target gives None:
no length reward, never a guessed one.
"""

from __future__ import annotations

from typing import Any

from longform.lengths import LengthSpec, parse_length, spec_from_target
from longform.scores import length_score, longen_score
from longform.text import count_words

__all__ = ["DEFAULT_CAP", "length_components", "length_reward", "range_reward", "resolve_target"]

DEFAULT_CAP = 2.0


def range_reward(words: int, lo: float, hi: float, cap: float = DEFAULT_CAP) -> float:
    """1 inside [lo, hi]; words/lo below; above hi, linear from 1 at hi down to 0 at cap * hi."""
    if not 0 < lo <= hi:
        raise ValueError(f"interval must satisfy 0 < lo <= hi, got [{lo}, {hi}]")
    if cap <= 1:
        raise ValueError(f"cap must be > 1 (the reward reaches 0 at cap * hi words), got {cap}")
    if words < 0:
        raise ValueError(f"words must be >= 0, got {words}")
    if words < lo:
        return words / lo
    if words <= hi:
        return 1.0
    return max(0.0, (cap * hi - words) / ((cap - 1) * hi))


def resolve_target(instruction: str, target: Any = None) -> LengthSpec | None:
    """The length a response is held to: `target` if given, else the instruction's stated length."""
    if target is not None:
        return spec_from_target(target)
    return parse_length(instruction or "")


def length_components(instruction: str, response: str, target: Any = None, cap: float = DEFAULT_CAP) -> dict[str, Any]:
    """Words, the interval, S_l (0-100, against the spec's target words), LonGen score and range reward.

    With no target and no stated length every score is None and `source` says so."""
    n = count_words(response)
    spec = resolve_target(instruction, target)
    if spec is None:
        return {"words": n, "source": "none: the instruction states no length", "kind": None, "lo": None, "hi": None,
                "target_words": None, "s_l": None, "longen": None, "reward": None}
    return {
        "words": n, "source": "target" if target is not None else "instruction", "kind": spec.kind,
        "lo": spec.lo, "hi": spec.hi, "target_words": spec.target_words,
        "s_l": round(length_score(spec.target_words, n), 4),
        "longen": round(longen_score(n, spec.lo, spec.hi), 6),
        "reward": round(range_reward(n, spec.lo, spec.hi, cap), 6),
    }


def length_reward(instruction: str, response: str, target: Any = None, cap: float = DEFAULT_CAP) -> float | None:
    """The range reward in [0, 1] of `response`; None when there is no target and no stated length."""
    spec = resolve_target(instruction, target)
    if spec is None:
        return None
    return range_reward(count_words(response), spec.lo, spec.hi, cap)
