"""Each trainer, a few steps on CPU on data in `make dataset`'s format (tiny random Llama with the
SmolLM2 tokenizer): finite losses, the output folder as documented, an overfit check on a fixed batch."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from longform.train import run_training
from tests.train.conftest import full_only, smoke_config, write_dataset


def record(out: Path) -> dict:
    return json.loads((out / "training_record.json").read_text())


def assert_checkpoint(out: Path, kind: str, steps: int) -> dict:
    rec = record(out)
    assert rec["kind"] == kind and rec["steps"] == steps
    assert rec["losses"] and all(math.isfinite(x["loss"]) for x in rec["losses"])
    assert (out / "model.safetensors").is_file() and not list(out.glob("*.bin"))
    assert (out / "tokenizer.json").is_file() and (out / "chat_template.jinja").read_text().strip()
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert rec["data"]["fingerprint"] and rec["data"]["lengths"]["overlong"] == 0
    assert rec["wall_time_s"] > 0 and rec["versions"]["trl"]
    return rec


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "tiny", n=8)


def test_sft_overfits_a_fixed_batch(tmp_path, ds):
    """Two fixed examples, one batch, repeated: the loss must fall below half its start."""
    small = write_dataset(tmp_path / "two", n=2)
    out = tmp_path / "sft"
    run_training("sft", smoke_config(small, out, max_steps=20, save_steps=20, per_device_train_batch_size=2,
                                     learning_rate=1e-2))
    rec = assert_checkpoint(out, "sft", 20)
    first, last = rec["losses"][0]["loss"], rec["losses"][-1]["loss"]
    assert last < first / 2, (first, last)


def test_dpo_few_steps(tmp_path, ds):
    out = tmp_path / "dpo"
    run_training("dpo", smoke_config(ds, out, max_steps=3, save_steps=3))
    rec = assert_checkpoint(out, "dpo", 3)
    assert rec["config"]["beta"] == 0.1


@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory, ds) -> Path:
    out = tmp_path_factory.mktemp("rm") / "rm"
    run_training("rm", smoke_config(ds, out, max_steps=4, save_steps=4, eval_fraction=0.25, learning_rate=3e-3))
    return out


def test_rm_few_steps_and_held_out_ranking(tiny_rm):
    out = tiny_rm
    rec = assert_checkpoint(out, "rm", 4)
    assert rec["data"]["used_rows"] == 6 and rec["data"]["eval_rows"] == 2
    ev = rec["eval"]
    assert ev["pairs"] == 2 and 0.0 <= ev["accuracy"] <= 1.0 and math.isfinite(ev["margin_mean"])

    from longform.reward_models.quality import RewardModelScorer, load_scorer

    scorer = load_scorer(out)  # what `longform score --rm PATH` and the GRPO rm_reward use
    assert isinstance(scorer, RewardModelScorer)
    a, b = scorer.score_many([("Write about tea.", "Tea is brewed with hot water."), ("Write about tea.", "tea tea")])
    assert math.isfinite(a) and math.isfinite(b) and a != b
    assert scorer.score("Write about tea.", "tea tea") == pytest.approx(b, abs=1e-4)


def test_grpo_logs_each_reward_component(tmp_path, ds, tiny_rm):
    """The combined reward: length, format and the trained RM, each logged per step."""
    out = tmp_path / "grpo"
    run_training("grpo", smoke_config(ds, out, max_steps=2, save_steps=2, per_device_train_batch_size=4,
                                      num_generations=4, max_completion_length=12, split="sft",
                                      rewards={"rm": str(tiny_rm), "weights": {"length": 1.0, "format": 0.5, "rm": 2.0}}))
    rec = record(out)
    assert rec["steps"] == 2 and all(math.isfinite(x["loss"]) for x in rec["losses"])
    comps = rec["reward_components"]
    assert set(comps) == {"length_reward", "format_reward", "rm_reward"}
    assert all(len(v) == 2 and all(0.0 <= p["mean"] <= 1.0 for p in v) for v in comps.values())
    assert rec["reward_weights"] == {"length_reward": 1.0, "format_reward": 0.5, "rm_reward": 2.0}
    assert (out / "model.safetensors").is_file()


@full_only
def test_lora_is_merged_into_the_saved_checkpoint(tmp_path, ds):
    out = tmp_path / "lora"
    run_training("sft", smoke_config(ds, out, max_steps=2, save_steps=2, lora=True, lora_r=4, lora_alpha=8))
    rec = assert_checkpoint(out, "sft", 2)
    assert rec["base_model"]["lora_merged"] is True
    assert not (out / "adapter_config.json").exists()
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as f:
        names = list(f.keys())
    assert names and not [k for k in names if "lora" in k]
