"""Config checks and bad input: one line, exit 2, before any heavy work (no output folder written)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from longform.cli import main
from longform.errors import UserError
from longform.train import config as cfgmod
from longform.train.runner import trainer_module
from tests.train.conftest import smoke_config, write_dataset

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["train", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err[-1] if err else ""


@pytest.mark.parametrize("kind", ["sft", "dpo", "rm", "grpo"])
def test_every_field_has_a_help_line(kind):
    cls = trainer_module(kind).Config
    for f in dataclasses.fields(cls):
        assert f.metadata.get("help"), f"{kind}.{f.name} has no help"
    assert len(cfgmod.describe_keys(cls).splitlines()) == len(dataclasses.fields(cls))


def test_unknown_key_is_named_with_the_closest_valid_one(tmp_path):
    with pytest.raises(UserError, match=r"unknown key `max_step` .*did you mean `max_steps`"):
        cfgmod.load(trainer_module("sft").Config, {"data": "x", "output_dir": "y", "max_step": 3})


def test_wrong_type_and_bad_values_are_named():
    cls = trainer_module("sft").Config
    with pytest.raises(UserError, match="`max_steps` must be int"):
        cfgmod.load(cls, {"data": "x", "output_dir": "y", "max_steps": "ten"})
    with pytest.raises(UserError, match="`overlong` must be one of refuse, drop"):
        cfgmod.load(cls, {"data": "x", "output_dir": "y", "overlong": "truncate"})
    with pytest.raises(UserError, match="`learning_rate` must be positive"):
        cfgmod.load(cls, {"data": "x", "output_dir": "y", "learning_rate": 0})
    assert cfgmod.load(cls, {"data": "x", "output_dir": "y", "learning_rate": 1}).learning_rate == 1.0


def test_grpo_batch_must_hold_whole_groups():
    with pytest.raises(UserError, match="multiple of num_generations"):
        cfgmod.load(trainer_module("grpo").Config, {"data": "x", "output_dir": "y", "num_generations": 4,
                                                    "per_device_train_batch_size": 3})
    with pytest.raises(UserError, match="rewards"):
        cfgmod.load(trainer_module("grpo").Config, {"data": "x", "output_dir": "y", "num_generations": 2,
                                                    "per_device_train_batch_size": 2, "rewards": {"wieghts": {}}})


def test_set_values_are_read_as_yaml():
    assert cfgmod.parse_set(["max_steps=20", "lora=true", "split=null", "lora_target_modules=[q_proj, v_proj]"]) == {
        "max_steps": 20, "lora": True, "split": None, "lora_target_modules": ["q_proj", "v_proj"]}
    with pytest.raises(UserError, match="KEY=VALUE"):
        cfgmod.parse_set(["max_steps"])


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs" / "train").glob("*.yaml")))
def test_shipped_configs_are_valid(name):
    kind = name.split("-")[-1].removesuffix(".yaml")
    cfg = cfgmod.load(trainer_module(kind).Config, REPO / "configs" / "train" / name)
    assert cfg.output_dir and cfg.data
    if name.startswith("gpu-"):
        assert cfg.device == "gpu" and cfg.bf16 and cfg.gradient_checkpointing and cfg.max_length >= 32768


def test_unknown_trainer_exits_2(capsys):
    rc, line = run_cli(capsys, "ppo", "--config", "x.yaml")
    assert rc == 2 and line == "error: unknown trainer 'ppo'; use one of sft, dpo, rm, grpo (or `keys`)"


def test_unknown_config_key_exits_2(capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: x\noutput_dir: y\nlearning_rat: 0.1\n")
    rc, line = run_cli(capsys, "sft", "--config", str(cfg))
    assert rc == 2 and "unknown key `learning_rat`" in line and "learning_rate" in line


def test_gpu_config_without_a_gpu_exits_2_before_any_work(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    out = tmp_path / "gpu-out"
    rc, line = run_cli(capsys, "sft", "--config", str(REPO / "configs/train/gpu-sft.yaml"), "--set", f"output_dir={out}")
    assert rc == 2 and "needs a CUDA GPU" in line
    assert not out.exists()


def test_dataset_without_the_needed_columns_exits_2(capsys, tmp_path):
    ds = write_dataset(tmp_path / "ds")
    cfg = tmp_path / "c.yaml"
    import yaml

    # the rm split (chosen/rejected) given to the SFT trainer
    cfg.write_text(yaml.safe_dump(smoke_config(ds / "rm", tmp_path / "out")))
    rc, line = run_cli(capsys, "sft", "--config", str(cfg))
    assert rc == 2 and "needs (messages) or (prompt, completion)" in line and "has columns chosen," in line
    assert not (tmp_path / "out").exists()
    rc, line = run_cli(capsys, "dpo", "--config", str(cfg), "--set", f"data={ds / 'sft'}")
    assert rc == 2 and "`train dpo` needs (prompt, chosen, rejected) or (chosen, rejected)" in line


def test_missing_data_and_config_exit_2(capsys, tmp_path):
    rc, line = run_cli(capsys, "sft", "--config", str(tmp_path / "nope.yaml"))
    assert rc == 2 and "does not exist" in line
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {tmp_path / 'missing'}\noutput_dir: {tmp_path / 'o'}\n")
    rc, line = run_cli(capsys, "rm", "--config", str(cfg))
    assert rc == 2 and "does not exist" in line


def test_keys_lists_the_trainer_fields(capsys):
    assert main(["train", "keys", "grpo"]) == 0
    out = capsys.readouterr().out
    assert "num_generations: 4  #" in out and "max_length: 1024  #" in out


def test_rerun_with_other_data_in_the_same_output_dir_is_refused(tmp_path):
    from longform.train.runner import RUN_CONFIG, _check_previous, load_config

    cfg = load_config("sft", smoke_config(tmp_path / "ds", tmp_path / "out"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / RUN_CONFIG).write_text(
        f'{{"fingerprint": "{cfg.fingerprint()}", "data_fingerprint": "aaaa", "config": {{}}}}')
    assert _check_previous(tmp_path / "out", cfg, "aaaa") is False
    with pytest.raises(UserError, match="the data files' contents"):
        _check_previous(tmp_path / "out", cfg, "bbbb")
    cfg.overwrite = True
    assert _check_previous(tmp_path / "out", cfg, "bbbb") is True
