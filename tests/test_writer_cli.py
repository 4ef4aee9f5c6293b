"""The `writer` command: input validation (no model needed) and end-to-end runs on the real
embedded model (marked `model`; small word counts so the suite stays fast)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longform import run_record as rr
from longform.writer_cli import main, words_from_prompt
from tests.model_threads import THREADS_ARGV

WRITER = [sys.executable, "-m", "longform.writer_cli"]
# One thread: on a busy 2-core machine llama.cpp with 2 threads spins at its barriers and runs
# several times slower; with one it degrades gracefully.
THREADS = THREADS_ARGV


def err_lines(capsys):
    return [l for l in capsys.readouterr().err.splitlines() if l.strip()]


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["", "--words", "500"], "prompt is empty"),
        (["   \n ", "--words", "500"], "prompt is empty"),
        (["Write.", "--words", "0"], "--words must be a positive"),
        (["Write.", "--words", "-5"], "--words must be a positive"),
        (["Write.", "--words", "1000000"], "more than this tool writes"),
        (["Write about tea."], "no target length"),
        (["Write.", "--words", "300", "--prompt-file", "x.txt"], "not both"),
        (["--prompt-file", "/nonexistent/p.txt", "--words", "300"], "cannot read --prompt-file"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, needle):
    code = main(argv + ["--out", str(tmp_path / "o")])
    lines = err_lines(capsys)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], lines


@pytest.mark.parametrize(
    "case,needle",
    [
        ("nul-prompt-file", "NUL/control byte(s): it is not a text instruction"),
        ("not-gguf", "is not a GGUF model file"),
        ("missing-gguf", "no GGUF file at"),
        ("unknown-litellm-provider", "litellm does not know the provider 'foobar'"),
        ("timeout-0", "--timeout must be a positive number of seconds"),
        ("stall-timeout-negative", "--stall-timeout must be a positive number of seconds"),
        ("concurrency-0", "--concurrency must be between 1 and 1024"),
        ("prompt-5mb", "the model's window is 8,192 tokens and a prompt may take at most 4,096"),
        ("prompt-over-half-the-window", "the model's window is 2,048 tokens and a prompt may take at most 1,024"),
    ],
)
def test_bad_input_is_refused_before_any_run_file_is_written(tmp_path, capsys, case, needle):
    out = tmp_path / "out"
    binary = tmp_path / "nul.txt"
    binary.write_bytes(b"\x00" * 500)
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")
    big = tmp_path / "big.txt"
    big.write_text("Write about tea. " * 300_000)
    argv = {
        "nul-prompt-file": ["--prompt-file", str(binary), "--words", "50"],
        "not-gguf": ["Write.", "--words", "50", "--model", f"embedded:{not_gguf}"],
        "missing-gguf": ["Write.", "--words", "50", "--model", f"embedded:{tmp_path / 'nope.gguf'}"],
        "unknown-litellm-provider": ["Write.", "--words", "50", "--model", "litellm:foobar/model"],
        "timeout-0": ["Write.", "--words", "50", "--timeout", "0"],
        "stall-timeout-negative": ["Write.", "--words", "50", "--stall-timeout", "-1"],
        "concurrency-0": ["Write.", "--words", "50", "--concurrency", "0"],
        "prompt-5mb": ["--prompt-file", str(big), "--words", "50"],
        "prompt-over-half-the-window": ["Write about tea. " * 400, "--words", "50", "--n-ctx", "2048", *THREADS_ARGV],
    }[case]
    code = main(argv + ["--out", str(out)])
    lines = err_lines(capsys)
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], lines
    assert not out.exists(), f"{case}: left {sorted(p.name for p in out.iterdir())}"


def test_unknown_method_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["Write.", "--words", "300", "--method", "magic", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "invalid choice: 'magic'" in capsys.readouterr().err


def test_non_empty_out_needs_resume_or_force(tmp_path, capsys):
    (tmp_path / "something.txt").write_text("x")
    assert main(["Write.", "--words", "300", "--out", str(tmp_path)]) == 2
    lines = err_lines(capsys)
    assert len(lines) == 1 and "not empty" in lines[0] and "--resume" in lines[0] and "--force" in lines[0]


def test_unwritable_out_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["Write.", "--words", "300", "--out", str(blocker / "sub")]) == 2
    assert len(err_lines(capsys)) == 1
    assert main(["Write.", "--words", "300", "--out", str(blocker)]) == 2
    assert "is a file" in err_lines(capsys)[0]
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(["Write.", "--words", "300", "--out", str(ro)]) == 2


def test_resume_without_a_run_exits_2(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--resume"]) == 2
    assert "no run to resume" in err_lines(capsys)[0]
    assert main(["--out", str(tmp_path / "missing"), "--resume"]) == 2


def test_resume_and_force_exclusive(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["Write.", "--words", "300", "--out", str(tmp_path), "--resume", "--force"])
    assert exc.value.code == 2


def test_words_from_prompt():
    assert words_from_prompt("Write a 10000-word history of tea") == 10000
    assert words_from_prompt("Write a 2,000 word essay") == 2000
    assert words_from_prompt("写一篇5000字的中国旅游指南") == 5000
    assert words_from_prompt("Write an essay") is None


# ---------------------------------------------------------------------------------------------
# End to end, real embedded model. --no-cache: what is tested is the pipeline and checkpoint,
# not the request cache.


def run_writer(args, **kw):
    return subprocess.run(WRITER + args + THREADS, capture_output=True, text=True, timeout=900, check=False, **kw)


def read_calls(out):
    p = Path(out) / rr.CALLS
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip()] if p.exists() else []


@pytest.mark.model
def test_agentwrite_end_to_end(tmp_path):
    out = tmp_path / "run"
    r = run_writer(["Write a short article about the history of tea.", "--words", "400", "--section-words", "200",
                    "--out", str(out), "--no-cache", "--seed", "3"])
    assert r.returncode == 0, r.stderr
    front, _ = rr.read_manuscript(out / rr.MANUSCRIPT)
    run = json.loads((out / rr.RUN).read_text())
    plan = json.loads((out / rr.PLAN).read_text())
    assert front["method"] == "agentwrite" and front["target_words"] == 400
    assert front["words"] == run["words"] > 0 and front["length_score"] == run["length_score"]
    assert run["status"] == "done" and len(run["sections"]) == len(plan["sections"]) == 2
    assert plan["planned_words"] == 400
    assert front["length_score"] >= 80, front  # program-controlled length on a 135M model
    tags = [c["tag"] for c in read_calls(out)]
    assert tags[0] == "plan" and "section-2" in tags
    assert "api_key" not in (out / rr.RUN).read_text()


@pytest.mark.model
def test_direct_end_to_end(tmp_path):
    out = tmp_path / "d"
    r = run_writer(["Write a short poem about rain.", "--words", "150", "--method", "direct", "--out", str(out),
                    "--no-cache"])
    assert r.returncode == 0, r.stderr
    front, _ = rr.read_manuscript(out / rr.MANUSCRIPT)
    assert front["method"] == "direct" and front["words"] > 0
    assert [c["tag"] for c in read_calls(out)] == ["direct"]


@pytest.mark.model
def test_chinese_counts_characters_end_to_end(tmp_path):
    out = tmp_path / "zh"
    r = run_writer(["写一篇关于茶的短文", "--words", "300", "--section-words", "150", "--out", str(out), "--no-cache"])
    assert r.returncode == 0, r.stderr
    front, body = rr.read_manuscript(out / rr.MANUSCRIPT)
    assert front["language"] == "zh"
    from longform.text import count_words

    assert front["words"] == count_words(body) > 0


def _wait_for_tag(out, prefix, proc, timeout=600):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if any(c["tag"].startswith(prefix) for c in read_calls(out)):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.5)
    return False


@pytest.mark.model
def test_kill_9_then_resume_requests_no_finished_section(tmp_path):
    out = tmp_path / "k"
    args = ["Write an article about the history of bridges.", "--words", "600", "--section-words", "150",
            "--out", str(out), "--no-cache"]
    proc = subprocess.Popen(WRITER + args + THREADS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # section-2's first call is logged only after section 1 finished (and was checkpointed).
        assert _wait_for_tag(out, "section-2", proc), "run ended before section 2 started"
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
    before = read_calls(out)
    started = {int(c["tag"].split(":")[0].split("-")[1]) for c in before if c["tag"].startswith("section-")}
    finished = {k for k in started if k < max(started)}
    assert 1 in finished
    assert not (out / rr.MANUSCRIPT).exists()
    assert json.loads((out / rr.RUN).read_text())["status"] == "running"
    r = run_writer(["--out", str(out), "--resume", "--no-cache"])
    assert r.returncode == 0, r.stderr
    after = read_calls(out)[len(before):]
    requested = {int(c["tag"].split(":")[0].split("-")[1]) for c in after if c["tag"].startswith("section-")}
    assert not any(c["tag"] == "plan" for c in after)
    assert requested and not (requested & finished), (requested, finished)
    run = json.loads((out / rr.RUN).read_text())
    assert run["status"] == "done" and len(run["sessions"]) == 2 and run["sessions"][1]["resume"] is True
    front, _ = rr.read_manuscript(out / rr.MANUSCRIPT)
    assert front["words"] > 0


@pytest.mark.model
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_leaves_a_resumable_run(tmp_path, sig):
    out = tmp_path / "c"
    # Four sections: after section 1's call is logged, three more calls remain, so the signal (sent
    # within the 0.5 s poll) always lands in a running run, however few calls each section takes.
    args = ["Write a story about a lighthouse keeper.", "--words", "480", "--section-words", "120",
            "--out", str(out), "--no-cache"]
    # SIGINT back to its default in the child: a suite started in the background (`make test &`,
    # nohup) ignores SIGINT, the child inherits that, and Python then never raises KeyboardInterrupt.
    proc = subprocess.Popen(WRITER + args + THREADS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert _wait_for_tag(out, "section-1", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert f"writer --out {out} --resume" in err
    assert json.loads((out / rr.RUN).read_text())["status"] == "interrupted"
    r = run_writer(["--out", str(out), "--resume", "--no-cache"])
    assert r.returncode == 0, r.stderr
    assert rr.read_manuscript(out / rr.MANUSCRIPT)[0]["words"] > 0


@pytest.mark.model
def test_kill_9_right_after_the_call_is_logged_resumes_to_a_full_manuscript(tmp_path):
    """The kill lands between the call's log line and its step's checkpoint (the node's writes are
    saved as pending writes, or not yet): the resume must finish the run, never report 0 words."""
    out = tmp_path / "d"
    args = ["Write a short note about rain.", "--words", "60", "--method", "direct", "--out", str(out), "--no-cache"]
    proc = subprocess.Popen(WRITER + args + THREADS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    log = out / rr.CALLS
    while not (log.exists() and log.read_bytes().endswith(b"\n")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    r = run_writer(["--out", str(out), "--resume", "--no-cache"])
    assert r.returncode == 0, r.stderr
    front, body = rr.read_manuscript(out / rr.MANUSCRIPT)
    assert front["words"] > 0 and body.strip()
    assert json.loads((out / rr.RUN).read_text())["status"] == "done"
    again = run_writer(["--out", str(out), "--resume", "--no-cache"])
    assert again.returncode == 0 and "nothing to resume" in again.stderr
