"""`longform train rm`: a Bradley-Terry reward model on chosen / rejected answers (TRL RewardTrainer).

Data: the `rm` split of a `longform dataset` folder (`chosen`, `rejected`: whole conversations), or
rows with `prompt`, `chosen`, `rejected`. The saved checkpoint is a sequence-classification model
with one output; `longform.reward_models.trained_rm.load_reward_model(PATH)` loads it as a scorer.
After training, the pairs held out (`eval_data` or `eval_fraction`) are ranked by the saved model
and the accuracy goes into the training record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.config_io import help_field
from longform.errors import UserError
from longform.train.config import TrainConfig
from longform.train.data import as_messages, require_columns
from longform.train.seqlen import chat_tokens

PEFT_TASK = "SEQ_CLS"


@dataclass
class Config(TrainConfig):
    """RM: the common fields, plus:"""

    center_rewards_coefficient: float | None = help_field(None, "Weight of a penalty that keeps rewards centred on 0 (null: none).")

    kind = "rm"
    default_split = "rm"


def __getattr__(name: str) -> Any:
    if name == "TRL_CONFIG":
        from trl import RewardConfig

        return RewardConfig
    raise AttributeError(name)


def prepare(rows: list[dict[str, Any]], cfg: Config, where: str) -> list[dict[str, Any]]:
    cols = require_columns(rows, [("prompt", "chosen", "rejected"), ("chosen", "rejected")], where, "rm")
    out = []
    for i, r in enumerate(rows):
        prompt = as_messages(r["prompt"], "user") if "prompt" in cols else []
        chosen = prompt + as_messages(r["chosen"], "assistant" if prompt else "user")
        rejected = prompt + as_messages(r["rejected"], "assistant" if prompt else "user")
        if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
            raise UserError(f"training data {where}: row {i}: chosen and rejected must end with an assistant answer")
        out.append({"chosen": chosen, "rejected": rejected})
    return out


def measurer(tokenizer: Any, cfg: Config) -> Callable[[dict[str, Any]], int]:
    return lambda r: max(chat_tokens(tokenizer, r["chosen"]), chat_tokens(tokenizer, r["rejected"]))


def make_trainer(cfg: Config, model_path: str, tokenizer: Any, train_ds: Any, eval_ds: Any, common: dict[str, Any],
                 peft_config: Any) -> Any:
    from trl import RewardConfig, RewardTrainer

    args = RewardConfig(**common, center_rewards_coefficient=cfg.center_rewards_coefficient)
    return RewardTrainer(model=model_path, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=tokenizer, peft_config=peft_config)


def after_training(trainer: Any, cfg: Config, out: Path, eval_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rank the held-out pairs with the saved checkpoint, loaded as every other user loads it."""
    if not eval_rows:
        return {"eval": None}
    from longform.reward_models.trained_rm import load_reward_model

    rm = load_reward_model(out, threads=cfg.threads)
    pairs = [(r["chosen"], r["rejected"]) for r in eval_rows]
    chosen = rm.score_conversations([c for c, _ in pairs])
    rejected = rm.score_conversations([r for _, r in pairs])
    wins = [c > r for c, r in zip(chosen, rejected)]
    return {"eval": {"pairs": len(pairs), "accuracy": sum(wins) / len(wins),
                     "margin_mean": sum(c - r for c, r in zip(chosen, rejected)) / len(pairs)}}
