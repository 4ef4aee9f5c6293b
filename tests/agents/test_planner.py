import asyncio

import pytest
from longform.agents import planner

from tests.fakes import ScriptedFakeBackend, fake_model, plan_json


@pytest.mark.parametrize("weights,total", [([1, 1, 1], 1000), ([3, 1], 7), ([0.2, 5, 1e6], 10000), ([0, 0], 5), ([1] * 7, 100)])
def test_rescale_sums_exactly(weights, total):
    out = planner.rescale(weights, total)
    assert sum(out) == total
    assert len(out) == len(weights)
    assert all(x >= 0 for x in out)


def test_section_count_bounds():
    assert planner.section_count(100, 400) == 1
    assert planner.section_count(10000, 400) == 25
    assert planner.section_count(100000, 400, max_sections=200) == 200


def test_normalize_splits_too_few_and_budgets_sum():
    raw = [{"title": "Origins", "main_point": "Where it began.", "words": 100},
           {"title": "Empire", "main_point": "The height.", "words": 5000}]
    plan = planner.normalize_plan(raw, 2000, 5)
    assert len(plan) == 5
    assert sum(s["words"] for s in plan) == 2000
    titles = [s["title"] for s in plan]
    assert len(set(titles)) == 5  # split parts get distinct titles
    assert titles[0] == "Origins"
    # one absurd budget does not starve the others: at most ~3/4 of the target in one title group
    assert min(s["words"] for s in plan) >= 150


def test_normalize_drops_duplicates_and_empties_and_cuts_extra():
    raw = [{"title": "A", "main_point": "a", "words": 1}, {"title": "a", "main_point": "dup", "words": 1},
           {"title": "  ", "main_point": "x", "words": 1}, {"title": "B", "main_point": "", "words": -3},
           {"title": "C", "main_point": "c", "words": 1}, {"title": "D", "main_point": "d", "words": 1}]
    plan = planner.normalize_plan(raw, 900, 3)
    assert [s["title"] for s in plan] == ["A", "B", "C"]
    assert plan[1]["main_point"] == "B"  # empty point falls back to the title
    assert sum(s["words"] for s in plan) == 900


def test_normalize_with_nothing_uses_generic_outline():
    plan = planner.normalize_plan([], 3000, 6, lang="zh")
    assert len(plan) == 6 and sum(s["words"] for s in plan) == 3000
    assert plan[0]["title"] == "引言"


def test_fallback_plan_is_deterministic_and_valid():
    a, b = planner.fallback_plan(10000, 25), planner.fallback_plan(10000, 25)
    assert a == b
    assert len(a["sections"]) == 25 and sum(s["words"] for s in a["sections"]) == 10000
    assert len({s["title"] for s in a["sections"]}) == 25


def test_make_plan_uses_model_outline(tmp_path):
    backend = ScriptedFakeBackend([plan_json(["One", "Two", "Three"], 333)])
    sections, meta = asyncio.run(planner.make_plan(fake_model(backend), "Write about tea.", 1000, 3, seed=1))
    assert [s["title"] for s in sections] == ["One", "Two", "Three"]
    assert sum(s["words"] for s in sections) == 1000
    assert meta["fallback"] is False and meta["model_sections"] == 3
    # the schema bounds the section count
    assert backend.requests[0][1].json_schema["properties"]["sections"]["maxItems"] == 3


def test_make_plan_falls_back_on_bad_json(tmp_path):
    backend = ScriptedFakeBackend(["not json", "still not", "{\"sections\": 5}"])
    log = tmp_path / "calls.jsonl"
    sections, meta = asyncio.run(planner.make_plan(fake_model(backend, str(log)), "Write about tea.", 2000, 4))
    assert meta["fallback"] is True
    assert len(sections) == 4 and sum(s["words"] for s in sections) == 2000
    assert "structured_fallback" in log.read_text()


def test_titles_lose_model_numbering():
    raw = [{"title": "1. Origins", "main_point": "a", "words": 1}, {"title": "Section 2: Empire", "main_point": "b", "words": 1},
           {"title": "1984 Olympics", "main_point": "c", "words": 1}]
    assert [s["title"] for s in planner.normalize_plan(raw, 900, 3)] == ["Origins", "Empire", "1984 Olympics"]


def test_looping_titles_are_dropped():
    raw = [{"title": "China Travel Guide", "main_point": "a", "words": 1},
           {"title": "The best part: The best part: The best part: The best part: The", "main_point": "b", "words": 1}]
    plan = planner.normalize_plan(raw, 1000, 2)
    assert [s["title"] for s in plan] == ["China Travel Guide", "China Travel Guide (continued)"]
    assert planner.normalize_plan([{"title": "The Rise and Fall of the Western Roman Empire", "main_point": "x",
                                    "words": 1}], 500, 1)[0]["title"].startswith("The Rise")


def test_near_duplicate_titles_and_points_about_the_text():
    raw = [{"title": "The Family", "main_point": "In this 200-word story, a family is described.", "words": 1},
           {"title": "A Family", "main_point": "b", "words": 1},
           {"title": "The First Child", "main_point": "The first section is dedicated to the child.", "words": 1},
           {"title": "The World", "main_point": "c", "words": 1},
           {"title": "The World of the Girl", "main_point": "d", "words": 1},
           {"title": "...", "main_point": "...", "words": 1},
           {"title": "Harvest on the River Farm", "main_point": "The rains came late and the wheat failed.", "words": 1}]
    out = planner.distinct_sections(raw)
    assert [s["title"] for s in out] == ["The Family", "The First Child", "The World", "Harvest on the River Farm"]
    # a point that talks about the text gives way to the title; a point about the content stays
    assert out[0]["main_point"] == "The Family" and out[1]["main_point"] == "The First Child"
    assert out[3]["main_point"] == "The rains came late and the wheat failed."


def test_extend_plan_asks_for_the_missing_sections_before_the_conclusion():
    first = plan_json(["Origins", "Trade", "Conclusion"], 400)
    more = plan_json(["Ports", "Origins again", "Tea Clippers"], 400)
    backend = ScriptedFakeBackend([first, more])
    model = fake_model(backend)
    sections, meta = asyncio.run(planner.make_plan(model, "Write about tea.", 2400, 6, seed=1))
    assert meta["distinct"] == 3 and planner.needs_more(meta, 6, max_rounds=4)
    sections, meta = asyncio.run(planner.extend_plan(model, "Write about tea.", 2400, 6, meta, seed=1))
    titles = [s["title"] for s in sections if "(continued" not in s["title"]]
    assert titles == ["Origins", "Trade", "Ports", "Tea Clippers", "Conclusion"]  # "Origins again" is a duplicate
    assert len(sections) == 6
    assert meta["distinct"] == 5 and meta["rounds"] == 2 and sum(s["words"] for s in sections) == 2400
    params = backend.requests[1][1]
    # the second call asks for what is missing, and may not reuse earlier titles' n-grams
    assert params.json_schema["properties"]["sections"]["maxItems"] == 3
    assert params.no_repeat_ngram == planner.TITLE_BLOCK_NGRAM and "Trade" in params.history
    listed = backend.requests[1][0][-1]["content"]
    assert "- Origins\n" in listed and "About origins." not in listed  # titles only: points are history, not prompt


def test_asking_again_stops_after_two_rounds_that_add_nothing():
    meta = {"fallback": False, "distinct": 2, "rounds": 2, "stalled_rounds": 0}
    assert planner.needs_more(meta, 5, max_rounds=6)
    assert not planner.needs_more({**meta, "stalled_rounds": 2}, 5, max_rounds=6)
    assert not planner.needs_more({**meta, "rounds": 6}, 5, max_rounds=6)
    assert not planner.needs_more({**meta, "distinct": 5}, 5, max_rounds=6)
    assert not planner.needs_more({**meta, "fallback": True}, 5, max_rounds=6)
    backend = ScriptedFakeBackend([plan_json(["A", "B"])], repeat_last=True)
    model = fake_model(backend)
    _, meta = asyncio.run(planner.make_plan(model, "x", 2000, 5))
    rounds = 1
    while planner.needs_more(meta, 5, max_rounds=6):
        _, meta = asyncio.run(planner.extend_plan(model, "x", 2000, 5, meta))
        rounds += 1
    assert rounds == 3 and meta["stalled_rounds"] == 2 and len(backend.requests) == 3


def test_model_proportions_count_only_when_every_section_has_one():
    raw = [{"title": "Alpha", "main_point": "a"}, {"title": "Beta", "main_point": "b", "words": 900},
           {"title": "Gamma", "main_point": "c"}, {"title": "Delta", "main_point": "d"}]
    plan = planner.normalize_plan(raw, 1000, 4)
    assert [s["words"] for s in plan] == [250, 250, 250, 250]
    raw_all = [dict(s, words=w) for s, w in zip(raw, (100, 500, 200, 200))]
    assert planner.normalize_plan(raw_all, 1000, 4)[1]["words"] > 250
