"""Kill -9 during `longform train sft`, rerun the same command: it resumes from the newest complete
checkpoint and the step count goes on (the real CLI in subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from longform.train.runner import last_checkpoint
from tests.train.conftest import env_with_offline, full_only, smoke_config, write_dataset


def saved_steps(out: Path) -> list[int]:
    return [int(p.parent.name.split("-")[1]) for p in (out / "checkpoints").glob("checkpoint-*/trainer_state.json")]


def test_incomplete_checkpoints_are_skipped_and_removed(tmp_path):
    ck = tmp_path / "checkpoints"
    for step, complete in ((2, True), (4, True), (6, False)):
        d = ck / f"checkpoint-{step}"
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"x")
        if complete:
            (d / "trainer_state.json").write_text("{}")
    assert last_checkpoint(ck) == ck / "checkpoint-4"
    assert not (ck / "checkpoint-6").exists()
    assert last_checkpoint(tmp_path / "none") is None


def test_kill_9_then_rerun_resumes_and_counts_on(tmp_path):
    ds = write_dataset(tmp_path / "ds", n=8)
    out = tmp_path / "out"
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(yaml.safe_dump(smoke_config(ds, out, max_steps=40, save_steps=2, save_total_limit=None)))
    cmd = [sys.executable, "-m", "longform.cli", "train", "sft", "--config", str(cfg)]
    env = env_with_offline()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 600
    try:
        while time.time() < deadline and proc.poll() is None:
            if saved_steps(out) and max(saved_steps(out)) >= 4:  # look only: never touch a folder being written
                break
            time.sleep(0.2)
        assert proc.poll() is None, "training ended before it could be killed: " + (proc.stderr.read() or "")[-2000:]
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "training_record.json").exists()
    killed_at = max(saved_steps(out))
    assert 4 <= killed_at < 40

    done = subprocess.run(cmd + ["--set", "max_steps=" + str(killed_at + 2)], env=env, capture_output=True, check=False,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"resuming from {out / 'checkpoints' / f'checkpoint-{killed_at}'} (step {killed_at}" in done.stderr
    rec = json.loads((out / "training_record.json").read_text())
    assert rec["resumed_from_step"] == killed_at and rec["steps"] == killed_at + 2
    assert rec["sessions"][-1]["from_step"] == killed_at
    # the losses logged before the kill come back from the checkpoint: one per step, none repeated
    assert [x["step"] for x in rec["losses"]] == list(range(1, killed_at + 3))
    assert Path(done.stdout.strip()) == out


@full_only
def test_sigterm_saves_the_current_step_and_says_how_to_resume(tmp_path):
    ds = write_dataset(tmp_path / "ds", n=8)
    out = tmp_path / "out"
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(yaml.safe_dump(smoke_config(ds, out, max_steps=200, save_steps=100)))
    cmd = [sys.executable, "-m", "longform.cli", "train", "sft", "--config", str(cfg)]
    # Started as a shell starts a background job (SIGINT ignored): SIGTERM must still save the step.
    proc = subprocess.Popen(cmd, env=env_with_offline(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("step 3/"):
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130
    step = max(saved_steps(out))
    assert 3 <= step < 100 and f"saved checkpoint-{step}" in rest
    assert f"Resume with: longform train sft --config {cfg}" in rest
    done = subprocess.run(cmd + ["--set", f"max_steps={step + 1}"], env=env_with_offline(), capture_output=True, check=False,
                          text=True, timeout=600)
    assert done.returncode == 0 and f"(step {step} of {step + 1})" in done.stderr
