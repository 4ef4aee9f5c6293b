"""Benchmark files into samples; the selection every method gets."""

from __future__ import annotations

from collections import Counter

import pytest

from longform.errors import UserError
from longform.eval import benchmarks
from longform.eval.samples import Sample, round_robin


def test_shared_benchmarks_load():
    ruler = benchmarks.select("ruler")
    assert len(ruler.samples) == 48
    assert Counter(s.lang for s in ruler.samples) == {"en": 24, "zh": 24}
    lbw = benchmarks.select("longbench-write")
    assert len(lbw.samples) == 120 and {s.bucket for s in lbw.samples} == {"<500", "500-2k", "2k-4k", ">=4k"}
    longen = benchmarks.select("longen")
    assert len(longen.samples) == 240
    s = next(x for x in longen.samples if x.kind == "above")
    lo, hi = s.interval
    assert hi == 1.5 * lo and s.target_words == round((lo + hi) / 2)


def test_make_eval_selection_is_ruler_english_1k_to_10k():
    sel = benchmarks.select("ruler", lang="en", lengths=[1000, 2000, 5000, 10000])
    assert Counter(s.required_words for s in sel.samples) == {1000: 4, 2000: 4, 5000: 4, 10000: 4}
    assert all(s.lang == "en" for s in sel.samples)


def test_longen_subset_of_20_covers_every_type_and_both_languages():
    sel = benchmarks.select("longen", limit=20)
    assert len(sel.samples) == 20 == len({s.id for s in sel.samples})
    assert Counter(s.kind for s in sel.samples) == {"about": 5, "above": 5, "below": 5, "range": 5}
    assert set(Counter(s.lang for s in sel.samples)) == {"en", "zh"}
    assert benchmarks.select("longen", limit=20).samples == sel.samples  # the same prompts every time


def test_round_robin_takes_groups_in_turn():
    def s(i, g):
        return Sample(id=str(i), benchmark="x", index=i, prompt="p", lang="en", required_words=g, target_words=g,
                      bucket=str(g))

    samples = [s(0, 1), s(1, 1), s(2, 1), s(3, 2), s(4, 3)]
    assert [x.id for x in round_robin(samples, lambda x: x.required_words, 4)] == ["0", "3", "4", "1"]
    assert round_robin(samples, lambda x: x.required_words, None) == samples


@pytest.mark.parametrize("kwargs, message", [
    ({"limit": 0}, "--limit must be at least 1"),
    ({"lengths": [1234]}, "ruler has no prompt of that length"),
    ({"data": "/nonexistent/x.jsonl"}, "benchmark file not found"),
])
def test_bad_selection(kwargs, message):
    with pytest.raises(UserError, match=message):
        benchmarks.select("ruler", **kwargs)
