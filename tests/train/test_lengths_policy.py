"""Examples longer than max_length are reported and refused, or dropped with their count recorded;
never cut. Measured with the model's own tokenizer and chat template before training."""

from __future__ import annotations

import json

import pytest

from longform.errors import UserError
from longform.train import run_training
from longform.train.runner import common_args, load_config
from longform.train.seqlen import enforce
from tests.train.conftest import smoke_config, write_dataset

LONG = " ".join(["The kettle sang while the leaves unfurled slowly in the warm pot."] * 30)  # ~400 tokens


def test_enforce_refuses_or_drops_and_reports():
    rows = [{"n": n} for n in (10, 50, 200, 300)]
    with pytest.raises(UserError, match=r"2 of 4 examples are longer than max_length=100 tokens \(longest 300\); "
                                         r"raise max_length to 300 or set overlong=drop"):
        enforce(rows, lambda r: r["n"], 100, "refuse", "data", log=lambda m: None)
    kept, rep = enforce(rows, lambda r: r["n"], 100, "drop", "data", log=lambda m: None)
    assert [r["n"] for r in kept] == [10, 50] and rep.dropped == 2 and rep.overlong == 2 and rep.longest == 300


@pytest.mark.parametrize("kind", ["sft", "dpo", "rm", "grpo"])
def test_trl_never_truncates_after_the_check(kind, tmp_path):
    extra = {"num_generations": 2, "per_device_train_batch_size": 2} if kind == "grpo" else {}
    cfg = load_config(kind, {"data": "x", "output_dir": str(tmp_path), "max_length": 4096, **extra})
    from longform.train.runner import trainer_module

    args = common_args(cfg, "cpu", tmp_path, trainer_module(kind).TRL_CONFIG)
    assert args.get("max_length") is None  # GRPO has no such field: generation is bounded by max_completion_length


def test_overlong_data_is_refused_before_training(tmp_path):
    ds = write_dataset(tmp_path / "ds", n=4, answer=LONG)
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"4 of 4 examples are longer than max_length=128 tokens"):
        run_training("sft", smoke_config(ds, out, max_length=128))
    assert not (out / "checkpoints").exists() and not (out / "model.safetensors").exists()


def test_overlong_data_is_dropped_and_counted_when_asked(tmp_path):
    ds = write_dataset(tmp_path / "ds", n=6)
    # make two answers long: they must be dropped, the other four trained on whole
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = next((ds / "sft").glob("*.parquet"))
    t = pq.read_table(f).to_pylist()
    for r in t[:2]:
        r["messages"][1]["content"] = LONG
    pq.write_table(pa.Table.from_pylist(t, schema=pq.read_schema(f)), f)
    out = tmp_path / "out"
    run_training("sft", smoke_config(ds, out, max_length=160, overlong="drop", max_steps=1, save_steps=1))
    rec = json.loads((out / "training_record.json").read_text())
    lengths = rec["data"]["lengths"]
    assert lengths["examples"] == 6 and lengths["overlong"] == 2 and lengths["dropped"] == 2
    assert rec["data"]["used_rows"] == 4 and lengths["longest"] > 160
