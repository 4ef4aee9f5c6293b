"""The eval's control flow: resume after an interrupt without regenerating, a failing sample
recorded with its reason while the run goes on, the same prompts for every method, adding a
method to an existing eval folder. Driven by the scripted fake through the real LLM layer."""

from __future__ import annotations

import json

from longform.cli import main
from tests.eval.conftest import reply_by_prompt
from tests.fakes import ScriptedFakeBackend, prose


def _eval(out, data, *extra):
    return main(["eval", "ruler", "--data", str(data), "--out", str(out), "--no-cache", "--no-progress", *extra])


def _journal(out):
    return [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]


def test_interrupted_eval_resumes_without_regenerating(tmp_path, ruler_file, use_models, capsys):
    calls = {"n": 0}

    def interrupting():
        def reply(messages, params):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt  # Ctrl-C during the third sample
            return reply_by_prompt()(messages, params)

        return ScriptedFakeBackend(default=reply)

    use_models(interrupting)
    out = tmp_path / "ev"
    assert _eval(out, ruler_file, "--method", "direct") == 130
    assert "Resume with: longform eval" in capsys.readouterr().err
    assert [r["sample_id"] for r in _journal(out)] == ["ruler-en-100-00", "ruler-en-200-01"]
    assert (out / "report.md").exists()  # the report covers what finished

    factory = use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    assert _eval(out, ruler_file, "--method", "direct") == 0
    # only the interrupted sample is requested again
    assert len(factory.requests) == 1 and "topic 2" in factory.requests[0][0][-1]["content"]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["status"] for r in results] == ["done"] * 3

    factory = use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    assert _eval(out, ruler_file, "--method", "direct") == 0
    assert factory.requests == []  # a finished eval asks nothing
    manifest = json.loads((out / "eval.json").read_text())
    assert [s["status"] for s in manifest["sessions"]] == ["interrupted", "done", "done"]


def test_failing_sample_is_reported_and_the_run_goes_on(tmp_path, ruler_file, use_models, capsys):
    use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt(fail_on="topic 1")))
    out = tmp_path / "ev"
    assert _eval(out, ruler_file, "--method", "direct") == 0
    by_id = {r["sample_id"]: r for r in _journal(out)}
    assert by_id["ruler-en-200-01"]["status"] == "failed"
    assert "failed after 2 attempts" in by_id["ruler-en-200-01"]["error"]
    assert by_id["ruler-en-100-00"]["status"] == by_id["ruler-en-300-02"]["status"] == "done"
    report = (out / "report.md").read_text()
    assert "failed after 2 attempts" in report and "direct ruler-en-200-01" in report
    assert "1 failed" in capsys.readouterr().out

    # a re-run keeps the failure; --retry-failed runs that sample (and only it) again
    factory = use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    assert _eval(out, ruler_file, "--method", "direct") == 0
    assert factory.requests == []
    assert _eval(out, ruler_file, "--method", "direct", "--retry-failed") == 0
    assert len(factory.requests) == 1 and "topic 1" in factory.requests[0][0][-1]["content"]
    assert {r["status"] for r in _journal(out)[-1:]} == {"done"}


def test_every_method_gets_the_same_prompts_and_methods_can_be_added(tmp_path, ruler_file, use_models):
    factory = use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    out = tmp_path / "ev"
    assert _eval(out, ruler_file, "--method", "direct", "--limit", "2") == 0
    first = [r[0][-1]["content"] for r in factory.requests]
    assert len(first) == 2

    # agentwrite added later: its plan calls fall back (the fake writes prose, not JSON); its prompts
    # carry the same instructions, and direct is not run again
    factory = use_models(lambda: ScriptedFakeBackend(default=lambda m, p: prose(60)))
    assert _eval(out, ruler_file, "--method", "direct,agentwrite", "--limit", "2") == 0
    asked = "\n".join(m["content"] for req in factory.requests for m in req[0])
    assert "topic 0" in asked and "topic 1" in asked and "topic 2" not in asked
    manifest = json.loads((out / "eval.json").read_text())
    assert manifest["methods"] == ["direct", "agentwrite"]
    keys = {(r["method"], r["sample_id"]) for r in _journal(out)}
    assert keys == {(m, s) for m in ("direct", "agentwrite") for s in ("ruler-en-100-00", "ruler-en-200-01")}
    assert len(_journal(out)) == 4  # direct's two samples written once


def test_several_models_in_one_run(tmp_path, ruler_file, use_models, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-used")
    factory = use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    out = tmp_path / "ev"
    assert _eval(out, ruler_file, "--method", "direct", "--model", "embedded,openai:test-model", "--limit", "2") == 0
    assert len(factory.backends) == 2  # one model loaded at a time, each once
    assert {(r["model"], r["sample_id"]) for r in _journal(out)} == {
        (m, s) for m in ("embedded", "openai:test-model") for s in ("ruler-en-100-00", "ruler-en-200-01")}
    report = (out / "report.md").read_text()
    assert "| direct @ embedded |" in report and "| direct @ openai:test-model |" in report
    assert (out / "runs" / "openai-test-model" / "direct" / "ruler-en-100-00" / "manuscript.md").exists()
