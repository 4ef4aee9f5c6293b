"""What an instruction states literally: unit counts and single/range/periodic constraints, in English
and Chinese; and the numbers a model-extracted requirement may use."""

import json
from pathlib import Path

import pytest

from longform.constraints import literal, spec

PROMPTS = Path(__file__).resolve().parents[2] / "bench" / "unit_prompts.jsonl"


def key(req):
    n = req.units.count
    return n, req.units.heading, [(c.kind, c.units(n), c.keywords) for c in req.constraints]


@pytest.mark.parametrize("row", [json.loads(l) for l in PROMPTS.read_text(encoding="utf-8").splitlines() if l.strip()],
                         ids=lambda r: r["id"])
def test_bench_prompts_are_read_as_their_requirements(row):
    want = spec.validate(spec.from_dict(row["requirements"]), row["target_words"])
    got = literal.find(row["prompt"]).requirements
    assert key(got) == key(want)


@pytest.mark.parametrize("text,count,name,found", [
    ('A 20-week diary. Week 7 mentions "a fox".', 20, "Week", [("single", [7])]),
    ('Twelve chapters; chapters 2 to 4 are set in "Rome".', 12, "Chapter", [("range", [2, 3, 4])]),
    ('A 9-floor tower where every other floor has "a bar".', 9, "Floor", [("periodic", [2, 4, 6, 8])]),
    ('A 10-day log; every 3rd day, starting from day 2, mentions "tea".', 10, "Day", [("periodic", [2, 5, 8])]),
    ('A 6-course menu. The last course is "sorbet". Between courses 2 and 3 serve "bread".', 6, "Course",
     [("single", [6]), ("range", [2, 3])]),
    ('写一栋12层的大楼，第3层有“钢琴”，每隔4层有“花园”，最后一层有“望远镜”。', 12, "层",
     [("single", [3]), ("periodic", [4, 8, 12]), ("single", [12])]),
])
def test_phrasings(text, count, name, found):
    f = literal.find(text)
    assert f.requirements.units.count == count and f.requirements.units.name == name
    n = f.requirements.units.count
    assert [(c.kind, c.units(n)) for c in f.requirements.constraints] == found
    assert all(c.keywords for c in f.requirements.constraints)


def test_no_units_and_unit_words_without_a_count():
    assert literal.find("Write a 2000-word novel about a teenage heroine.").requirements.is_empty()
    f = literal.find('Write a diary where week 3 mentions "snow".')
    assert f.requirements.is_empty() and f.ignored  # a unit number with no count is not guessed


def test_each_unit_phrase_is_structure_not_a_constraint():
    f = literal.find("Write a 20-week diary with one entry for each week.")
    assert f.requirements.units.count == 20 and f.requirements.constraints == ()


def test_contradictions_are_found_literally():
    assert spec.problem(literal.find('A 20-week diary; week 30 mentions "X".').requirements, 2000)
    assert "period" in spec.problem(literal.find('A 10-week diary; every 0th week mentions "Y".').requirements, 2000)


def test_numbers_in_excludes_word_counts():
    assert literal.numbers_in("Write a 2000-word, 12-chapter story; chapter three has a fox.") == {12, 3}
    assert literal.numbers_in("写一份20周的日记，共约1500字，第七周") == {20, 7}
