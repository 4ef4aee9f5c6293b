"""Plan reviewer: a plan item that does not carry its constraint is flagged, then repaired by the program."""

from longform.agents import plan_reviewer, unit_planner

from longform.constraints import spec

REQ = spec.from_dict({"units": {"name": "Week", "count": 4}, "constraints": [
    {"kind": "single", "unit": 2, "text": "the fox appears", "keywords": ["the fox"]},
    {"kind": "range", "from": 3, "to": 4, "text": "a long drought ruins the harvest"}]})


def plan(summaries):
    return unit_planner.unit_items(REQ, 400, {n: {"title": "", "summary": s, "from_model": True}
                                              for n, s in enumerate(summaries, start=1)})


def test_items_that_miss_their_constraints_are_flagged():
    r = plan_reviewer.review(plan(["Spring.", "A quiet week.", "The drought ruins the harvest.", "Nothing."]), REQ, 400)
    assert r["structural"] == []
    assert r["repair"] == [2, 4]


def test_program_repair_writes_the_constraint_into_the_item():
    items = plan(["Spring.", "A quiet week.", "Dry.", "Nothing."])
    fixed = [plan_reviewer.program_repair(it, REQ) for it in items]
    assert plan_reviewer.review(fixed, REQ, 400)["repair"] == []
    assert "the fox" in fixed[1]["summary"] and fixed[1]["repaired_by"] == "program"


def test_bookkeeping_errors_are_structural():
    items = plan(["a", "b", "c", "d"])
    items[1] = {**items[1], "budget": items[1]["budget"] + 5, "constraints": []}
    r = plan_reviewer.review(items, REQ, 400)
    assert any("add up" in s for s in r["structural"]) and any("c1" in s for s in r["structural"])
