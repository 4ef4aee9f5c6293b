"""CogWriter's control flow on a scripted fake backend (not a model: see the e2e tests marked `model`):
fan-out, length control, bounded revisions, reports, resume after a crash in the parallel phase."""

import asyncio
import json
import re

import pytest
from longform.pipelines import cogwriter
from longform.pipelines.cogwriter import CogWriterSettings

from longform.errors import UserError
from tests.fakes import ScriptedFakeBackend, fake_model, prose, prose_zh

DIARY = 'Write a 6-week diary of a gardener. Week 2 must mention "the red umbrella". Every 3rd week mentions "heavy rain".'


def fake(words=100, revise_obeys=True, check=True, write=None):
    """A scripted model: JSON for structured calls, `words` of prose for writing, and a revision
    paragraph that uses the requested keywords when `revise_obeys`."""

    def reply(messages, params):
        s = params.json_schema
        if s is not None:
            t = s.get("title")
            if t == "requirements":
                return json.dumps({"unit_name": "", "unit_count": 0, "constraints": []})
            if t == "unit_plan":
                n = s["properties"]["items"]["maxItems"]
                return json.dumps({"items": [{"title": f"Part {k}", "summary": "A quiet week."} for k in range(n)]})
            if t == "unit_check":
                ids = re.findall(r"^(c\d+):", messages[-1]["content"], re.MULTILINE)
                return json.dumps({"verdicts": [{"id": i, "satisfied": check} for i in ids]})
            if t == "plan":
                n = s["properties"]["sections"]["maxItems"]
                return json.dumps({"sections": [{"title": f"S{k}", "main_point": "p", "words": 100} for k in range(n)]})
        last = messages[-1]["content"]
        if "Write one more paragraph" in last:
            kws = re.findall(r'"([^"]+)"', last.split("exact words")[-1]) if revise_obeys and "exact words" in last else []
            return ("At last " + " and ".join(kws) + " came. " if kws else "Nothing new. ") + prose(30)
        return write(messages, params) if write else prose(words)

    return reply


def run(backend, target=600, instruction=DIARY, tmp_path=None, **kw):
    model = fake_model(backend, str(tmp_path / "calls.jsonl") if tmp_path else None)
    settings = kw.pop("settings", CogWriterSettings())
    return asyncio.run(cogwriter.run(model, instruction, target, checkpoint_path=tmp_path / "ck.sqlite" if tmp_path else None,
                                     thread_id=kw.pop("thread_id", "t"), settings=settings, **kw))


def tags(tmp_path):
    return [json.loads(l)["tag"] for l in (tmp_path / "calls.jsonl").read_text().splitlines() if l.strip()]


def test_units_in_order_within_budget_and_constraints_met_after_revision(tmp_path):
    r = run(ScriptedFakeBackend(default=fake(words=70)), 600, tmp_path=tmp_path)
    heads = re.findall(r"^## (.+)$", r.text, re.MULTILINE)
    assert heads == [f"Week {k}" for k in range(1, 7)]
    assert sum(s["budget"] for s in r.sections) + 12 == 600
    assert all(abs(s["words"] - s["budget"]) <= 0.1 * s["budget"] for s in r.sections)
    assert abs(r.words - 600) <= 60
    rep = {c["id"]: c for c in r.report["constraints"]}
    assert rep["c1"]["satisfied"] and rep["c1"]["checked_by"] == "rule" and rep["c1"]["revisions"] == 1
    assert rep["c2"]["units"] == [3, 6] and rep["c2"]["satisfied"] and rep["c2"]["revisions"] == 1
    assert r.report["revision_rounds"] == 1 and r.report["literal_satisfied"] == 2
    t = tags(tmp_path)
    assert t[:3] == ["requirements", "overview", "plan-1"]
    assert {x for x in t if x.startswith("revise-")} == {"revise-2:r1", "revise-3:r1", "revise-6:r1"}
    assert any(":cont" in x for x in t)  # 70-word drafts of ~98-word units were continued


def test_revision_rounds_are_bounded_and_failures_reported(tmp_path):
    backend = ScriptedFakeBackend(default=fake(revise_obeys=False))
    r = run(backend, 600, tmp_path=tmp_path, settings=CogWriterSettings(max_rounds=2))
    rep = {c["id"]: c for c in r.report["constraints"]}
    assert rep["c1"]["satisfied"] is False and rep["c1"]["failed_units"] == [2] and rep["c1"]["revisions"] == 2
    assert r.report["revision_rounds"] == 2
    assert sum(1 for x in tags(tmp_path) if x.startswith("revise-")) == 2 * 3


def test_model_checked_constraints(tmp_path):
    instr = "Write a 4-week diary. Weeks 1-2 describe a cold spell."
    r = run(ScriptedFakeBackend(default=fake(check=False)), 400, instruction=instr, tmp_path=tmp_path,
            settings=CogWriterSettings(max_rounds=1))
    rep = r.report["constraints"][0]
    assert rep["checked_by"] == "model" and rep["satisfied"] is False and rep["revisions"] == 1
    assert sorted(x for x in tags(tmp_path) if x.startswith("check-")) == ["check-1:r0", "check-1:r1", "check-2:r0", "check-2:r1"]


def test_no_verdict_is_unchecked_and_not_revised(tmp_path):
    def reply(messages, params):
        if params.json_schema and params.json_schema.get("title") == "unit_check":
            return "cannot tell"
        return fake()(messages, params)

    instr = "Write a 4-week diary. Weeks 1-2 describe a cold spell."
    r = run(ScriptedFakeBackend(default=reply), 400, instruction=instr, tmp_path=tmp_path)
    assert r.report["constraints"][0]["satisfied"] is None
    assert not any(x.startswith("revise-") for x in tags(tmp_path))


def test_text_without_units_is_written_in_sections(tmp_path):
    r = run(ScriptedFakeBackend(default=fake(words=300)), 1200, instruction="Write a history of tea.", tmp_path=tmp_path)
    assert r.plan_meta["unit_mode"] is False and len(r.sections) == 3
    assert abs(r.words - 1200) <= 120 and r.report["constraints"] == []
    assert tags(tmp_path)[:2] == ["overview", "plan-1"]  # no numbers stated: no extraction call


def test_given_requirements_skip_extraction_and_are_checked(tmp_path):
    given = {"units": {"name": "Floor", "count": 3}, "constraints": [
        {"kind": "single", "unit": 3, "text": "the roof garden", "keywords": ["roof garden"]}]}
    r = run(ScriptedFakeBackend(default=fake()), 300, instruction="Describe a building.", tmp_path=tmp_path,
            settings=CogWriterSettings(requirements=given))
    assert re.findall(r"^## (.+)$", r.text, re.MULTILINE) == ["Floor 1", "Floor 2", "Floor 3"]
    assert "requirements" not in tags(tmp_path) and r.report["constraints"][0]["satisfied"]
    backend = ScriptedFakeBackend([])
    bad = {"units": {"name": "Floor", "count": 3}, "constraints": [{"kind": "single", "unit": 9, "text": "x"}]}
    with pytest.raises(UserError, match="floor 9"):
        run(backend, 300, instruction="Describe a building.", settings=CogWriterSettings(requirements=bad))
    assert backend.requests == []


@pytest.mark.parametrize("instruction,target,needle", [
    ('Write a 20-week diary where week 30 mentions "a fox".', 2000, "week 30"),
    ('Write a 10-week diary; every 0th week mentions "snow".', 2000, "every 0th week"),
    ("Write a 500-week diary.", 300, "500 weeks in 300 words"),
])
def test_impossible_instructions_fail_before_any_call(instruction, target, needle):
    backend = ScriptedFakeBackend([])
    with pytest.raises(UserError, match=needle):
        run(backend, target, instruction=instruction)
    assert backend.requests == []


def test_a_model_that_writes_nothing_still_ends(tmp_path):
    backend = ScriptedFakeBackend(default=fake(write=lambda m, p: "Tiny."))
    r = run(backend, 600, tmp_path=tmp_path)
    s = cogwriter.CogWriterSettings().section
    per_unit = 1 + max(s.max_continuations, 1) + s.max_regenerations
    assert len(backend.requests) <= 3 + 3 + 6 * per_unit + 2 * (6 + 6 * per_unit)  # plan, units, bounded revisions
    assert re.findall(r"^## (.+)$", r.text, re.MULTILINE) == [f"Week {k}" for k in range(1, 7)]


def test_a_short_first_pass_is_balanced_once(tmp_path):
    def write(messages, params):
        return "Tiny." if re.search(r"(Write|Continue) Week 3\b", messages[-1]["content"]) else prose(100)

    r = run(ScriptedFakeBackend(default=fake(write=write)), 600, tmp_path=tmp_path, settings=CogWriterSettings(max_rounds=0))
    by = {s["title"]: s for s in r.sections}
    assert by["Week 3"]["words"] <= 1 and by["Week 3"]["events"][-1] == "stalled"
    assert by["Week 1"]["budget"] > by["Week 1"]["planned_budget"] and "balance" in by["Week 1"]["events"]
    assert abs(r.words - 600) <= 60  # the others made up for the stalled unit
    assert sum(1 for t in tags(tmp_path) if re.fullmatch(r"unit-1(:\w+)?", t)) == 2  # draft + one balance call


def test_chinese_units():
    instr = "写一份4周的日记。第2周要提到“红伞”。"
    reply = fake(write=lambda m, p: prose_zh(150))
    r = run(ScriptedFakeBackend(default=reply), 400, instruction=instr)
    assert r.lang == "zh" and re.findall(r"^## (.+)$", r.text, re.MULTILINE) == ["第1周", "第2周", "第3周", "第4周"]
    assert abs(r.words - 400) <= 40


class SlowBackend(ScriptedFakeBackend):
    """Each writing call takes a little while, so parallel calls overlap; counts calls in flight."""

    def __init__(self, *a, fail_on=None, **kw):
        super().__init__(*a, **kw)
        self.in_flight = self.max_in_flight = 0
        self.fail_on = fail_on

    async def generate(self, messages, params):
        writing = params.json_schema is None
        if writing:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            last = messages[-1]["content"]
            delay = 0.3 if self.fail_on and f"Write {self.fail_on}" in last else 0.05
            await asyncio.sleep(delay)
            self.in_flight -= 1
            if self.fail_on and f"Write {self.fail_on}" in last:
                raise RuntimeError("killed")
        return await super().generate(messages, params)


def test_units_are_written_in_parallel_under_the_limits():
    b = SlowBackend(default=fake())
    m = fake_model(b)
    m.max_concurrency = 4
    asyncio.run(cogwriter.run(m, DIARY, 600))
    assert b.max_in_flight == 4
    b2 = SlowBackend(default=fake())
    m2 = fake_model(b2)
    m2.max_concurrency = 8
    asyncio.run(cogwriter.run(m2, DIARY, 600, settings=CogWriterSettings(concurrency=2)))
    assert b2.max_in_flight == 2


def test_resume_after_a_crash_in_the_parallel_phase_skips_finished_units(tmp_path):
    b = SlowBackend(default=fake(), fail_on="Week 4")
    m = fake_model(b, str(tmp_path / "calls.jsonl"))
    m.max_concurrency = 8
    m.retry = type(m.retry)(max_attempts=1)
    with pytest.raises(Exception, match="killed"):
        asyncio.run(cogwriter.run(m, DIARY, 600, checkpoint_path=tmp_path / "ck.sqlite", thread_id="k"))
    before = tags(tmp_path)
    done = {int(t.split("-")[1]) for t in before if re.fullmatch(r"unit-\d+", t)}
    assert done == {1, 2, 3, 5, 6}  # unit 4's call failed; the others finished in the same superstep
    b2 = ScriptedFakeBackend(default=fake())
    r = asyncio.run(cogwriter.run(fake_model(b2, str(tmp_path / "calls.jsonl")), DIARY, 600,
                                  checkpoint_path=tmp_path / "ck.sqlite", thread_id="k", resume=True))
    after = tags(tmp_path)[len(before):]
    assert r.resumed and "requirements" not in after and not any(t.startswith("plan") for t in after)
    written_again = {int(m.group(1)) for t in after if (m := re.fullmatch(r"unit-(\d+)(?::(?:cont|regen)\d+)?", t))}
    assert written_again == {4}
    assert re.findall(r"^## (.+)$", r.text, re.MULTILINE) == [f"Week {k}" for k in range(1, 7)]
    b3 = ScriptedFakeBackend([])
    again = asyncio.run(cogwriter.run(fake_model(b3), DIARY, 600, checkpoint_path=tmp_path / "ck.sqlite", thread_id="k",
                                      resume=True))
    assert b3.requests == [] and again.text == r.text


def test_recursion_limit_covers_the_bounds():
    s = CogWriterSettings()
    assert cogwriter.recursion_limit(s, 20000) > cogwriter.recursion_limit(s, 1000) > 60
