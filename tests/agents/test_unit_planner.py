"""Unit planner: budgets add up with the headings, constraints assigned by the program, fallbacks."""

import asyncio
import json

from longform.agents import unit_planner

from longform.constraints import spec
from longform.text import count_words
from tests.fakes import ScriptedFakeBackend, fake_model

REQ = spec.from_dict({"units": {"name": "Week", "count": 10}, "constraints": [
    {"kind": "single", "unit": 3, "text": 'mention "the fox"', "keywords": ["the fox"]},
    {"kind": "periodic", "every": 5, "text": 'mention "rain"', "keywords": ["rain"]},
    {"kind": "global", "text": "first person"}]})


def test_budgets_and_headings_add_up_to_the_target():
    for target in (200, 777, 1000):
        items = unit_planner.unit_items(REQ, target, {})
        assert [it["n"] for it in items] == list(range(1, 11))
        assert sum(it["budget"] for it in items) + sum(count_words(it["heading"]) for it in items) == target
        assert max(it["budget"] for it in items) - min(it["budget"] for it in items) <= 1
    items = unit_planner.unit_items(REQ, 1000, {})
    assert items[2]["constraints"] == ["c1", "c3"] and items[4]["constraints"] == ["c2", "c3"]
    assert items[2]["summary"] == 'mention "the fox"'  # the fallback item carries its constraint


def test_batches_cover_every_unit_once():
    assert unit_planner.batches(10, 4) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert sum(map(len, unit_planner.batches(30, 8))) == 30


def test_plan_batch_takes_what_is_valid_and_fills_the_rest():
    reply = json.dumps({"items": [{"title": "Arrival", "summary": "We came. We came. We came. We saw the fox."}]})
    backend = ScriptedFakeBackend([reply])
    items, _ = asyncio.run(unit_planner.plan_batch(fake_model(backend), "Write a diary.", "", REQ, [3, 4], lang="en",
                                                   seed=0, tag="plan-1"))
    assert items[0] == {"title": "Arrival", "summary": "We came. We saw the fox.", "from_model": True}
    assert items[1]["from_model"] is False and items[1]["title"] == ""
    assert backend.requests[0][1].json_schema["properties"]["items"]["maxItems"] == 2
    assert "mention \"the fox\"" in backend.requests[0][0][1]["content"]  # the batch prompt shows the constraint


def test_parts_of_a_text_without_units_take_their_planned_titles():
    none = spec.from_dict({"units": None, "constraints": [{"kind": "global", "text": "x", "keywords": ["tea"]}]})
    planning = unit_planner.section_plan_requirements(none, 3, "en")
    assert planning.units.label(2) == "Part 2" and [c.kind for c in planning.constraints] == ["global"]
    planned = {1: {"title": "Origins", "summary": "a", "from_model": True}, 2: {"title": "origins", "summary": "b"},
               3: {"title": "", "summary": "c"}}
    items = unit_planner.section_items(none, planning, 1000, planned)
    assert [it["heading"] for it in items] == ["Origins", "Part 2", "Part 3"]  # repeated or empty titles: "Part k"
    assert sum(it["budget"] for it in items) + 5 == 1000 and all(it["constraints"] == ["c1"] for it in items)
