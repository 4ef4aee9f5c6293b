"""The iterate loop's config: every key checked, bad input named in one line before any work."""

import json

import pytest

from longform.errors import UserError
from longform.selflengthen.config import describe_keys, load_config


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_cpu_smoke_config_loads():
    cfg = load_config("configs/selflengthen/cpu-smoke.yaml")
    assert cfg.iterations == 2 and cfg.models.generator == "embedded" and cfg.train.lora
    assert cfg.run_dir.name == "cpu-smoke"


def test_gpu_config_is_valid_where_its_model_folder_exists(tmp_path):
    with pytest.raises(UserError, match="models.generator.*missing"):
        load_config("configs/selflengthen/gpu.yaml")
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    sets = {f"models.{k}": f"vllm:{model}" for k in ("generator", "extender", "instructor")}
    cfg = load_config("configs/selflengthen/gpu.yaml", {**sets, "train.base_model": str(model)})
    assert cfg.models.checkpoint_backend == "vllm" and cfg.extend.max_rounds == 3


def test_unknown_key_is_named_with_the_closest(tmp_path):
    p = write(tmp_path, "extend:\n  max_round: 2\n")
    with pytest.raises(UserError, match=r"unknown key `extend.max_round` \(did you mean `extend.max_rounds`\?\)"):
        load_config(p)


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(UserError, match="key `iterations` must be int"):
        load_config(write(tmp_path, "iterations: two\n"))


def test_missing_checkpoint_is_one_clear_error(tmp_path):
    p = write(tmp_path, f"models:\n  generator: transformers:{tmp_path}/nope\n")
    with pytest.raises(UserError, match="points at a missing checkpoint"):
        load_config(p)


def test_seed_file_with_no_usable_instruction(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"text": "no instruction field"}) + "\n" + json.dumps({"instruction": "  "}) + "\n")
    with pytest.raises(UserError, match="has no usable instructions.*`instruction`, `prompt` or `query`"):
        load_config(write(tmp_path, f"self_instruct:\n  seeds: {seeds}\n"))
    seeds.write_text(json.dumps({"instruction": "Write a long story."}) + "\n")
    with pytest.raises(UserError, match="only 1 usable instruction"):
        load_config(write(tmp_path, f"self_instruct:\n  seeds: {seeds}\n"))


def test_overrides_and_keys_help():
    cfg = load_config("configs/selflengthen/cpu-smoke.yaml", {"iterations": 3, "extend.max_rounds": 2})
    assert cfg.iterations == 3 and cfg.extend.max_rounds == 2
    text = describe_keys()
    assert "extend:" in text and "max_rounds" in text and "# " in text
