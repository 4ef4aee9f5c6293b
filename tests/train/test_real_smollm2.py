"""The real SmolLM2-135M-Instruct weights, read from the packaged GGUF by transformers: a CPU SFT
run of a few steps, then its checkpoint writes a manuscript through `writer --model transformers:PATH`."""

from __future__ import annotations

import json
import math

import pytest

from longform.train import run_training
from longform.writer_cli import main as writer_main
from tests.model_threads import THREADS_ARGV
from tests.train.conftest import full_only, smoke_config, write_dataset

pytestmark = [pytest.mark.model, full_only]


def test_sft_on_smollm2_then_writer_uses_the_checkpoint(tmp_path):
    ds = write_dataset(tmp_path / "ds", n=4)
    out = tmp_path / "sft"
    run_training("sft", smoke_config(ds, out, model="smollm2", max_steps=2, save_steps=2, learning_rate=1e-5,
                                     max_length=192))
    rec = json.loads((out / "training_record.json").read_text())
    assert rec["steps"] == 2 and all(math.isfinite(x["loss"]) for x in rec["losses"])
    # a pretrained instruct model starts far below the random model's ln(49152) = 10.8
    assert rec["losses"][0]["loss"] < 6
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["num_hidden_layers"] == 30 and "quantization_config" not in cfg

    run = tmp_path / "run"
    rc = writer_main(["Write a 40-word note about green tea.", "--words", "40", "--method", "direct",
                      "--model", f"transformers:{out}", *THREADS_ARGV, "--no-cache", "--out", str(run)])
    assert rc == 0
    text = (run / "manuscript.md").read_text()
    assert text.startswith("---\n") and f"model: transformers:{out.name}@" in text
    assert json.loads((run / "run.json").read_text())["words"] > 0
    body = text.split("---\n", 2)[2]
    assert body.strip()
