"""Shared by the training tests: offline hub settings and tiny datasets in `make dataset`'s format
(Parquet split folders written by longform.dataset_card.write_splits, the code the dataset job uses)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# Longer training tests run under `make train-test` (LONGFORM_TRAIN_FULL=1), not in `make test`'s budget.
full_only = pytest.mark.skipif(os.environ.get("LONGFORM_TRAIN_FULL") != "1",
                               reason="full training test: run `make train-test`")

GOOD = ("Green tea wants water at about eighty degrees. Warm the pot, add the leaves, and pour. "
        "Wait two minutes, then serve at once. The second infusion is often sweeter than the first.")
BAD = "tea tea tea tea tea tea tea tea tea tea tea tea tea tea tea tea tea tea"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


def _user(t: str) -> dict[str, str]:
    return {"role": "user", "content": t}


def _assistant(t: str) -> dict[str, str]:
    return {"role": "assistant", "content": t}


def tables(n: int = 8, answer: str = GOOD, rejected: str = BAD) -> dict[str, list[dict[str, Any]]]:
    sft, dpo, rm = [], [], []
    for i in range(n):
        ins = f"Write about 40 words on brewing green tea (tip {i})."
        a, r = f"{answer} Tip {i}.", f"{rejected} {i}"
        sft.append({"id": f"{i:04x}", "messages": [_user(ins), _assistant(a)], "method": "direct", "lang": "en",
                    "target_words": 40, "words": 40, "length_score": 100.0})
        dpo.append({"id": f"{i:04x}", "prompt": [_user(ins)], "chosen": [_assistant(a)], "rejected": [_assistant(r)],
                    "chosen_method": "direct", "rejected_method": "direct", "chosen_length_score": 100.0,
                    "rejected_length_score": 40.0, "lang": "en"})
        rm.append({"id": f"{i:04x}", "chosen": [_user(ins), _assistant(a)], "rejected": [_user(ins), _assistant(r)],
                   "chosen_length_score": 100.0, "rejected_length_score": 40.0})
    return {"sft": sft, "dpo": dpo, "rm": rm, "raw": []}


def write_dataset(root: Path, **kw: Any) -> Path:
    from longform.dataset_card import write_splits

    write_splits(root, tables(**kw))
    return root


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("trainds") / "tiny")


def smoke_config(dataset: Path, out: Path, **over: Any) -> dict[str, Any]:
    """A tiny-model config: a few steps, short sequences, one thread."""
    cfg = {"model": "tiny", "data": str(dataset), "output_dir": str(out), "max_length": 256, "max_steps": 4,
           "save_steps": 2, "learning_rate": 1e-3, "device": "cpu", "threads": 1}
    cfg.update(over)
    return cfg


def env_with_offline() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
