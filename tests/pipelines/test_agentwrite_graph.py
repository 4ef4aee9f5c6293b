"""AgentWrite's control flow on a scripted fake backend (not a model: see tests marked `model`)."""

import asyncio
import json
import re

import pytest
from longform.agents.section_writer import SectionSettings
from longform.pipelines import agentwrite
from longform.pipelines.agentwrite import AgentWriteSettings

from tests.fakes import ScriptedFakeBackend, fake_model, looping, plan_json, prose, prose_zh


def writer_default(words_per_call: int):
    """A fake that writes `words_per_call` words a call, fewer if max_tokens says so."""

    def reply(messages, params):
        if params.json_schema is not None:
            n = params.json_schema["properties"]["sections"]["maxItems"]
            return plan_json([f"Topic {k}" for k in range(n)], 350)
        return prose(words_per_call)

    return reply


def run(backend, target, tmp_path, **kw):
    model = fake_model(backend, str(tmp_path / "calls.jsonl"))
    return asyncio.run(
        agentwrite.run(model, kw.pop("instruction", "Write about the history of tea."), target, checkpoint_path=tmp_path / "ck.sqlite",
                       thread_id=kw.pop("thread_id", "t1"), **kw)
    )


def calls(tmp_path):
    return [json.loads(l) for l in (tmp_path / "calls.jsonl").read_text().splitlines() if l.strip()]


@pytest.mark.parametrize("target", [1000, 3000])
def test_short_sections_are_continued_and_length_lands(tmp_path, target):
    r = run(ScriptedFakeBackend(default=writer_default(150)), target, tmp_path)
    assert abs(r.words - target) / target <= 0.1
    assert any(s["continuations"] > 0 for s in r.sections)
    assert sum(s["planned_words"] for s in r.sections) == target
    tags = [c["tag"] for c in calls(tmp_path)]
    assert tags[0] == "plan" and any(":cont" in t for t in tags)


def test_long_sections_are_cut(tmp_path):
    # A backend that writes more words than max_tokens was sized for (a wide margin stands in for a
    # model with fewer tokens per word than the estimate): the section is cut to its budget.
    wide = AgentWriteSettings(section=SectionSettings(max_tokens_margin=1.6))
    r = run(ScriptedFakeBackend(default=writer_default(900)), 2000, tmp_path, settings=wide)
    assert any(s["truncated"] for s in r.sections)
    assert abs(r.words - 2000) / 2000 <= 0.1


def test_looping_chunk_is_regenerated(tmp_path):
    script = [plan_json(["A", "B"], 500), looping(400)]
    backend = ScriptedFakeBackend(script, default=writer_default(300))
    r = run(backend, 1000, tmp_path)
    assert r.sections[0]["regenerations"] == 1
    assert "regenerate" in r.sections[0]["events"]
    assert "empire grew again" not in r.text
    seeds = [p.seed for _, p in backend.requests[1:3]]
    assert seeds[0] != seeds[1]  # a regeneration uses a new seed


def test_every_loop_is_bounded_when_the_model_stalls(tmp_path):
    backend = ScriptedFakeBackend(default=lambda m, p: plan_json(["A"]) if p.json_schema else "Tiny.")
    r = run(backend, 2000, tmp_path)
    n = len(r.plan)
    # one call per section (stalled), never more than the bounds allow
    assert len(backend.requests) <= 1 + n * (1 + 6 + 2)
    assert r.words < 2000  # honest: a model that writes nothing gives a short manuscript


def test_plan_fallback_recorded(tmp_path):
    def reply(messages, params):
        return "no json here" if params.json_schema else prose(400)

    r = run(ScriptedFakeBackend(default=reply), 1200, tmp_path)
    assert r.plan_meta["fallback"] is True
    assert len(r.plan) == 3 and sum(s["words"] for s in r.plan) == 1200


def test_prompt_tokens_per_call_flat_as_length_grows(tmp_path):
    per_call = {}
    for target in (2000, 10000):
        d = tmp_path / str(target)
        d.mkdir()
        run(ScriptedFakeBackend(default=writer_default(250)), target, d)
        section_calls = [c for c in calls(d) if c["tag"].startswith("section-")]
        per_call[target] = max(c["usage"]["prompt_tokens"] for c in section_calls)
    assert per_call[10000] <= 1.5 * per_call[2000]


class Boom(Exception):
    pass


def test_resume_never_requests_a_finished_section(tmp_path):
    # First run dies during section 3's first call.
    script = [plan_json(["A", "B", "C", "D"], 400)] + [prose(390) for _ in range(2)] + [Boom("killed")]
    model = fake_model(ScriptedFakeBackend(script), str(tmp_path / "calls.jsonl"))
    model.retry = type(model.retry)(max_attempts=1)
    with pytest.raises(Boom):
        asyncio.run(agentwrite.run(model, "Write about tea.", 1600, checkpoint_path=tmp_path / "ck.sqlite", thread_id="r"))
    before = [c["tag"] for c in calls(tmp_path)]
    assert before == ["plan", "section-1", "section-2"]
    # Resume: a new process would build a new model; only sections 3 and 4 are requested.
    backend2 = ScriptedFakeBackend(default=writer_default(390))
    model2 = fake_model(backend2, str(tmp_path / "calls.jsonl"))
    r = asyncio.run(agentwrite.run(model2, "Write about tea.", 1600, checkpoint_path=tmp_path / "ck.sqlite",
                                   thread_id="r", resume=True))
    after = [c["tag"] for c in calls(tmp_path)][len(before):]
    assert r.resumed
    assert after and all(re.match(r"section-[34]\b", t) for t in after), after
    assert [s["title"] for s in r.sections] == ["A", "B", "C", "D"]
    # Resuming a finished run asks nothing.
    backend3 = ScriptedFakeBackend([])
    r2 = asyncio.run(agentwrite.run(fake_model(backend3), "Write about tea.", 1600, checkpoint_path=tmp_path / "ck.sqlite",
                                    thread_id="r", resume=True))
    assert backend3.requests == [] and r2.text == r.text


def test_chinese_counts_characters(tmp_path):
    def reply(messages, params):
        if params.json_schema:
            return plan_json(["开端", "发展"], 300)
        return prose_zh(200)

    r = run(ScriptedFakeBackend(default=reply), 600, tmp_path, instruction="写一篇关于茶叶历史的文章")
    assert r.lang == "zh"
    assert abs(r.words - 600) / 600 <= 0.15
    assert "中文" in calls(tmp_path)[1]["messages"][1]["content"]


def test_recursion_limit_covers_bounds():
    s = AgentWriteSettings(section_words=400, section=SectionSettings())
    assert agentwrite.recursion_limit(10000, s) >= 2 + 25 * (1 + 6 + 2 + 1)


def test_split_parts_go_on_under_one_heading():
    body = agentwrite.assemble([{"title": "Tea", "text": "One."}, {"title": "Tea (continued)", "text": "Two."},
                                {"title": "Coffee", "text": "Three."}])
    assert body == "## Tea\n\nOne.\n\nTwo.\n\n## Coffee\n\nThree."
