"""`longform train dpo`: direct preference optimisation on chosen / rejected answers (TRL DPOTrainer).

Data: the `dpo` split of a `longform dataset` folder (`prompt`, `chosen`, `rejected`, conversational),
or rows with `chosen` and `rejected` whole conversations (the prompt is their shared beginning).
The reference model is a frozen copy of the base (with LoRA: the base with the adapter disabled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from longform.config_io import help_field
from longform.errors import UserError
from longform.train.config import TrainConfig
from longform.train.data import as_messages, require_columns
from longform.train.seqlen import chat_tokens


@dataclass
class Config(TrainConfig):
    """DPO: the common fields, plus:"""

    beta: float = help_field(0.1, "Strength of the pull towards the reference model (higher: stay closer).")
    loss_type: str = help_field("sigmoid", "DPO loss (TRL names): sigmoid, ipo, hinge, robust ...")

    kind = "dpo"
    default_split = "dpo"


def __getattr__(name: str) -> Any:
    if name == "TRL_CONFIG":
        from trl import DPOConfig

        return DPOConfig
    raise AttributeError(name)


def split_prompt(chosen: list[dict[str, str]], rejected: list[dict[str, str]]) -> tuple[list, list, list]:
    """(prompt, chosen answer, rejected answer) from two whole conversations sharing their beginning."""
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


def prepare(rows: list[dict[str, Any]], cfg: Config, where: str) -> list[dict[str, Any]]:
    cols = require_columns(rows, [("prompt", "chosen", "rejected"), ("chosen", "rejected")], where, "dpo")
    out = []
    for i, r in enumerate(rows):
        if "prompt" in cols:
            prompt = as_messages(r["prompt"], "user")
            chosen, rejected = as_messages(r["chosen"], "assistant"), as_messages(r["rejected"], "assistant")
        else:
            prompt, chosen, rejected = split_prompt(as_messages(r["chosen"], "user"), as_messages(r["rejected"], "user"))
        if not prompt or not chosen or not rejected:
            raise UserError(f"training data {where}: row {i} has no prompt shared by chosen and rejected")
        out.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return out


def measurer(tokenizer: Any, cfg: Config) -> Callable[[dict[str, Any]], int]:
    return lambda r: max(chat_tokens(tokenizer, r["prompt"] + r["chosen"]),
                         chat_tokens(tokenizer, r["prompt"] + r["rejected"]))


def make_trainer(cfg: Config, model_path: str, tokenizer: Any, train_ds: Any, eval_ds: Any, common: dict[str, Any],
                 peft_config: Any) -> Any:
    from trl import DPOConfig, DPOTrainer

    loss = [cfg.loss_type] if isinstance(DPOConfig.__dataclass_fields__["loss_type"].default_factory(), list) else cfg.loss_type  # type: ignore[misc]
    args = DPOConfig(**common, beta=cfg.beta, loss_type=loss)
    return DPOTrainer(model=model_path, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                      processing_class=tokenizer, peft_config=peft_config)
