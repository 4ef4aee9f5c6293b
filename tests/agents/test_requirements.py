"""Requirements agent: the model's extraction is kept only where grounded in the instruction and sound;
a literal contradiction is a UserError before any call (scripted fake: control flow only)."""

import asyncio
import json

import pytest
from longform.agents import requirements as ra

from longform.constraints import literal
from longform.errors import UserError
from tests.fakes import ScriptedFakeBackend, fake_model

INSTR = 'Write a 12-week diary. Week 2 mentions "the red umbrella". Every 4th week mentions "rain".'


def test_ungrounded_and_unsound_model_items_are_dropped():
    found = literal.find(INSTR)
    value = {"unit_name": "Week", "unit_count": 20, "constraints": [
        {"kind": "single", "unit": 7, "text": "mentions the lake", "keywords": ["the lake"]},   # 7 not in the text
        {"kind": "range", "from": 2, "to": 40, "text": "rain every week"},                      # 40 not in the text
        {"kind": "periodic", "every": 4, "text": "mentions rain", "keywords": ["rain"]},        # twin of a literal one
        {"kind": "single", "unit": 12, "text": "an umbrella at the end of the diary", "keywords": ["red umbrella"]},
        {"kind": "global", "text": "written in a cheerful tone"},                               # not in the text
        {"kind": "global", "text": "a 12-week diary"},                                          # restates the task
    ]}
    req, meta = ra.merge_model(found, value, INSTR, 1200)
    assert req.units.count == 12  # the literal count wins over the model's 20
    assert [(c.kind, c.units(12), c.source) for c in req.constraints] == [
        ("single", [2], "rule"), ("periodic", [4, 8, 12], "rule+model"), ("single", [12], "model")]
    whys = " | ".join(d["why"] for d in meta["dropped"])
    assert "7 is not a number" in whys and "40 is not a number" in whys and "neither its keywords" in whys
    assert "global requirement without quoted words" in whys


def test_model_units_used_only_when_the_count_is_written():
    instr = "Write twelve postcards from a trip to Peru."
    found = literal.find(instr)
    assert found.requirements.units is None  # "postcard" is not a unit noun the rules know
    req, _ = ra.merge_model(found, {"unit_name": "postcard", "unit_count": 12, "constraints": []}, instr, 1200)
    assert req.units.count == 12 and req.units.label(3) == "Postcard 3"
    req2, meta = ra.merge_model(found, {"unit_name": "Postcard", "unit_count": 30, "constraints": []}, instr, 1200)
    assert req2.units is None and "30 is not a number" in meta["dropped"][0]["why"]


def test_extract_with_a_model_that_never_gives_json_keeps_the_literal_findings():
    backend = ScriptedFakeBackend(default=lambda m, p: "no json")
    req, meta, c = asyncio.run(ra.extract(fake_model(backend), INSTR, 1200))
    assert c.fallback and meta["model"]["fallback"] is True
    assert len(backend.requests) == 3  # one call + two repairs, then the recorded fallback: never a loop
    assert [c.kind for c in req.constraints] == ["single", "periodic"]


def test_literal_contradiction_raises_before_any_call():
    backend = ScriptedFakeBackend([])
    with pytest.raises(UserError, match="week 30"):
        asyncio.run(ra.extract(fake_model(backend), 'A 20-week diary; week 30 mentions "x".', 2000))
    assert backend.requests == []


def test_given_json_is_checked():
    with pytest.raises(UserError, match="every 0th"):
        ra.from_given({"units": {"name": "Week", "count": 5}, "constraints": [{"kind": "periodic", "every": 0, "text": "x"}]}, 500)
    ok = ra.from_given(json.loads('{"units": {"name": "Floor", "count": 5}, "constraints": []}'), 500)
    assert ok.units.label(5) == "Floor 5"


def test_no_model_call_when_the_instruction_states_no_numbers():
    backend = ScriptedFakeBackend([])
    req, meta, c = asyncio.run(ra.extract(fake_model(backend), "Write a 2000-word novel about a teenage heroine.", 2000))
    assert c is None and backend.requests == [] and req.is_empty() and "not asked" in meta["model"]
