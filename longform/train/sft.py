"""`longform train sft`: supervised fine-tuning on instruction -> long answer conversations (TRL SFTTrainer).

Data: the `sft` split of a `longform dataset` folder (`messages`: user then assistant), or any rows
with `messages`, or `prompt` + `completion`. By default the loss covers the answer only.
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
    """SFT: the common fields, plus:"""

    completion_only_loss: bool = help_field(True, "Compute the loss on the assistant's answer only (not on the instruction).")

    kind = "sft"
    default_split = "sft"


def _trl_config() -> type:
    from trl import SFTConfig

    return SFTConfig


def __getattr__(name: str) -> Any:  # TRL_CONFIG is resolved lazily so that config checks never import TRL
    if name == "TRL_CONFIG":
        return _trl_config()
    raise AttributeError(name)


def prepare(rows: list[dict[str, Any]], cfg: Config, where: str) -> list[dict[str, Any]]:
    cols = require_columns(rows, [("messages",), ("prompt", "completion")], where, "sft")
    out = []
    for i, r in enumerate(rows):
        if cols == ("messages",):
            msgs = as_messages(r["messages"], "user")
            if len(msgs) < 2 or msgs[-1]["role"] != "assistant":
                raise UserError(f"training data {where}: row {i}'s messages must end with an assistant answer")
            prompt, completion = msgs[:-1], msgs[-1:]
        else:
            prompt, completion = as_messages(r["prompt"], "user"), as_messages(r["completion"], "assistant")
        out.append({"prompt": prompt, "completion": completion})
    return out


def measurer(tokenizer: Any, cfg: Config) -> Callable[[dict[str, Any]], int]:
    return lambda r: chat_tokens(tokenizer, r["prompt"] + r["completion"])


def make_trainer(cfg: Config, model_path: str, tokenizer: Any, train_ds: Any, eval_ds: Any, common: dict[str, Any],
                 peft_config: Any) -> Any:
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(**common, completion_only_loss=cfg.completion_only_loss)
    return SFTTrainer(model=model_path, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                      processing_class=tokenizer, peft_config=peft_config)
