"""Scores of one generated text: the length scores (from longform.scores, computed again from the
stored text whenever asked), the benchmark's own checks, and the quality judge's S_q through
longform.reward_models.quality."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from longform.eval.samples import Sample
from longform.scores import length_score, longen_score
from longform.text import count_words, ngram_repetition

S_Q_SKIPPED = "S_q skipped: no --judge given (pass --judge SPEC to score quality with the six LongBench-Write dimensions)"


def length_scores(sample: Sample, text: str) -> dict[str, Any]:
    """words, S_l against the required length, the LonGen interval score when the sample has an
    interval, and the share of repeated word 4-grams (a loop can reach a length and still be junk)."""
    words = count_words(text)
    out: dict[str, Any] = {
        "words": words,
        "s_l": round(length_score(sample.required_words, words), 4),
        "rep4": round(ngram_repetition(text, 4), 4),
    }
    if sample.interval is not None:
        lo, hi = sample.interval
        out["longen"] = round(longen_score(words, lo, hi), 4)
        out["in_interval"] = lo <= words <= hi
    return out


def benchmark_scores(mod: ModuleType, sample: Sample, text: str, report: dict[str, Any] | None) -> dict[str, Any]:
    """The benchmark's own checks (e.g. unit prompts: units present in order, constraints satisfied)."""
    score = getattr(mod, "score", None)
    return dict(score(sample, text, report)) if score else {}


def sample_scores(mod: ModuleType, sample: Sample, text: str, report: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**length_scores(sample, text), **benchmark_scores(mod, sample, text, report)}


async def judge_text(judge_model: Any, sample: Sample, text: str) -> dict[str, Any]:
    """One judge verdict (longform.reward_models.quality.judge): S_q or missing, the six dimensions,
    the injection flag and spans, the words the judge could not see (a window smaller than the
    text), and the tokens it cost (the judge model's counters around the call: repairs included,
    cache hits free)."""
    from longform.reward_models import quality

    before_p, before_c, calls0 = judge_model.usage.prompt_tokens, judge_model.usage.completion_tokens, judge_model.calls
    result = await quality.judge(judge_model, sample.prompt, text)
    return {
        "s_q": result.s_q,
        "missing": result.missing,
        "reason": result.reason,
        "dimensions": result.dimensions,
        "injection": result.injection,
        "spans": result.spans,
        "omitted_words": result.omitted_words,
        "cached": result.cached,
        "usage": {"calls": judge_model.calls - calls0,
                  "prompt_tokens": judge_model.usage.prompt_tokens - before_p,
                  "completion_tokens": judge_model.usage.completion_tokens - before_c},
    }
