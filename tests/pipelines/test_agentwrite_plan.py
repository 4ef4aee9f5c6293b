"""AgentWrite's planning rounds on a scripted fake backend (control flow, not a model): a plan with
too few distinct parts is grown by one call per graph step, bounded, and a killed run resumes."""

import asyncio
import json

from longform.pipelines import agentwrite
from longform.pipelines.agentwrite import AgentWriteSettings

from tests.fakes import ScriptedFakeBackend, fake_model, plan_json, prose


def reply_with(titles_per_call: list[list[str]]):
    """Plan calls answer from the list in turn (then repeat the last); prose calls write 400 words."""
    plans = list(titles_per_call)

    def reply(messages, params):
        if params.json_schema is not None:
            return plan_json(plans.pop(0) if len(plans) > 1 else plans[0], 400)
        return prose(400)

    return reply


def test_plan_grows_to_distinct_parts_one_call_per_step(tmp_path):
    backend = ScriptedFakeBackend(default=reply_with([["Origins", "Trade"], ["Ports", "Clippers"], ["Auctions"]]))
    model = fake_model(backend, str(tmp_path / "calls.jsonl"))
    r = asyncio.run(agentwrite.run(model, "Write about tea.", 2000, checkpoint_path=tmp_path / "ck.sqlite", thread_id="t"))
    titles = [s["title"] for s in r.plan]
    assert titles == ["Origins", "Trade", "Ports", "Clippers", "Auctions"]
    assert r.plan_meta["rounds"] == 3 and r.plan_meta["distinct"] == 5
    tags = [json.loads(line)["tag"] for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert tags[:3] == ["plan", "plan-more1", "plan-more2"] and tags[3] == "section-1"
    assert r.usage["calls"] == len(tags)


def test_plan_rounds_are_bounded_then_the_rest_is_split(tmp_path):
    backend = ScriptedFakeBackend(default=reply_with([["Origins", "Trade"], ["Origins"]]))
    model = fake_model(backend, str(tmp_path / "calls.jsonl"))
    settings = AgentWriteSettings(plan_rounds=6)
    r = asyncio.run(agentwrite.run(model, "Write about tea.", 2000, checkpoint_path=tmp_path / "ck.sqlite", thread_id="t",
                                   settings=settings))
    assert r.plan_meta["rounds"] == 3  # two rounds that added nothing end the asking
    assert len(r.plan) == 5 and sum(s["words"] for s in r.plan) == 2000
    assert abs(r.words - 2000) / 2000 <= 0.1


def test_killed_while_planning_resumes_without_asking_again(tmp_path):
    calls = {"n": 0}
    inner = reply_with([["Origins", "Trade"], ["Ports", "Clippers"], ["Auctions"]])

    def dying(messages, params):
        calls["n"] += 1
        if calls["n"] == 3:  # the second plan-more call: the process "dies"
            raise KeyboardInterrupt
        return inner(messages, params)

    ck = tmp_path / "ck.sqlite"
    model = fake_model(ScriptedFakeBackend(default=dying), str(tmp_path / "calls.jsonl"))
    try:
        asyncio.run(agentwrite.run(model, "Write about tea.", 2000, checkpoint_path=ck, thread_id="t"))
    except KeyboardInterrupt:
        pass
    backend = ScriptedFakeBackend(default=reply_with([["Auctions"]]))
    r = asyncio.run(agentwrite.run(fake_model(backend), "Write about tea.", 2000, checkpoint_path=ck, thread_id="t",
                                   resume=True))
    assert [s["title"] for s in r.plan] == ["Origins", "Trade", "Ports", "Clippers", "Auctions"]
    plan_calls = [p for _, p in backend.requests if p.json_schema is not None]
    assert len(plan_calls) == 1  # only the call in flight is made again
