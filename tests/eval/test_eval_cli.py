"""Bad input to `longform eval`: one line naming the problem, exit 2, nothing written. And the
embedded model end to end: a finished eval run again generates nothing."""

from __future__ import annotations

import json

import pytest

from longform.cli import main
from tests.eval.conftest import write_jsonl
from tests.model_threads import THREADS_ARGV


@pytest.mark.parametrize("argv, message", [
    (["eval", "nope"], "unknown benchmark 'nope'"),
    (["eval", "ruler", "--method", "direct,nosuch"], "unknown method 'nosuch'"),
    (["eval", "ruler", "--limit", "0"], "--limit must be at least 1"),
    (["eval", "ruler", "--model", "gpt"], "unknown model spec 'gpt'"),
    (["eval", "ruler", "--lengths", "1000,x"], "--lengths must be comma-separated"),
    (["eval", "ruler", "--method", "direct,,agentwrite"], "has an empty item"),
    (["eval", "ruler", "--parallel", "0"], "--parallel must be at least 1"),
    (["eval", "ruler", "--model", "openai:gpt-4o-mini"], "OPENAI_API_KEY is not set"),
    (["eval", "ruler", "--judge", "openai:gpt-4o"], "OPENAI_API_KEY is not set"),
    (["eval", "ruler", "--model", "embedded:/nonexistent/m.gguf"], "no GGUF file"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "ev"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_out_dir_holding_another_eval_or_other_files(tmp_path, capsys, ruler_file, use_models):
    from tests.eval.conftest import reply_by_prompt
    from tests.fakes import ScriptedFakeBackend

    use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt()))
    out = tmp_path / "ev"
    assert main(["eval", "ruler", "--data", str(ruler_file), "--method", "direct", "--limit", "1", "--out", str(out),
                 "--no-cache", "--no-progress"]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    capsys.readouterr()
    assert main(["eval", "ruler", "--data", str(ruler_file), "--method", "direct", "--limit", "2",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds another eval" in err[0]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # finished work untouched

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["eval", "ruler", "--out", str(other)]) == 2
    assert "not empty and holds no eval" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


@pytest.mark.model
def test_embedded_eval_end_to_end_and_rerun_generates_nothing(tmp_path, capsys):
    data = write_jsonl(tmp_path / "tiny.jsonl", [
        {"prompt": "Write a 60-word note about green tea.", "type": "t", "length": 60},
        {"prompt": "Write a 60-word note about bicycles.", "type": "t", "length": 60},
    ])
    out = tmp_path / "ev"
    argv = ["eval", "ruler", "--data", str(data), "--method", "direct", "--out", str(out), "--no-cache",
            *THREADS_ARGV, "--no-progress"]
    assert main(argv) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("eval: 2 done, 0 failed") and "report.md" in summary
    calls = (out / "calls-embedded.jsonl").read_text().splitlines()
    assert len(calls) == 2  # one direct call per sample
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["done", "done"]
    assert all(r["usage"]["generation"]["completion_tokens"] > 0 for r in rows)

    assert main(argv) == 0  # again: nothing generated, no model call made
    assert len((out / "calls-embedded.jsonl").read_text().splitlines()) == len(calls)
    assert "0 to generate" in capsys.readouterr().err


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path, ruler_file, capsys):
    from longform.eval import runner
    from longform.eval.config import EvalConfig

    out = tmp_path / "ev"
    cfg = EvalConfig(benchmark="ruler", out=out, methods=["direct"], data=str(ruler_file), no_cache=True)
    first = runner.open_eval(cfg)  # holds the folder, as a run in another process would
    assert main(["eval", "ruler", "--data", str(ruler_file), "--method", "direct", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in use by another eval run" in err[0]
    runner.finish_session(first, "done")  # released: the folder can be used again
    second = runner.open_eval(cfg)
    runner.finish_session(second, "done")
