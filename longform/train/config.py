"""What every trainer shares in its config: the model, the data, the length policy, the schedule,
LoRA and the device. Each trainer module declares a subclass with its own fields (as TRL does: a
dataclass with a one-line help per field). Configs are flat YAML mappings; `--set key=value`
overrides one key. Every key is checked before any heavy work: an unknown key names itself and
the closest valid one, a value of the wrong type names the expected type.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform import config_io
from longform.config_io import help_field
from longform.errors import UserError

OVERLONG = ("refuse", "drop")
DEVICES = ("auto", "cpu", "gpu")


@dataclass
class TrainConfig:
    """Fields common to sft, dpo, rm and grpo."""

    model: str = help_field("smollm2", "Base model: `smollm2` (SmolLM2-135M-Instruct from the packaged GGUF), `tiny` "
                               "(a small random Llama with the SmolLM2 tokenizer, for smoke tests), a local "
                               "checkpoint folder, `gguf:/path.gguf`, or a hub id (GPU machines).")
    data: str = help_field("", "Training data: a `longform dataset` folder (its split subfolder is used), a Parquet/JSONL "
                       "file or folder, or a `datasets.save_to_disk` folder.")
    split: str | None = help_field(None, "Subfolder of a `longform dataset` folder to read; null: the trainer's own split.")
    eval_data: str | None = help_field(None, "Held-out data in the same format (null: none, or `eval_fraction` of `data`).")
    eval_fraction: float = help_field(0.0, "Hold out this share of `data` (by a seeded shuffle) for evaluation.")
    limit: int | None = help_field(None, "Use only the first N training rows (after the length check).")
    output_dir: str = help_field("", "Where the final checkpoint, training_record.json and loss.png go; "
                             "intermediate checkpoints go to OUTPUT_DIR/checkpoints.")
    max_length: int = help_field(1024, "Longest tokenized example (prompt + answer) in tokens.")
    overlong: str = help_field("refuse", "Examples longer than max_length: `refuse` (stop with a report) or `drop` "
                                 "(train without them and record how many); never cut.")
    max_steps: int = help_field(10, "Optimizer steps in all (a resumed run counts on from its checkpoint).")
    per_device_train_batch_size: int = help_field(1, "Examples per device per forward pass.")
    gradient_accumulation_steps: int = help_field(1, "Forward passes per optimizer step.")
    learning_rate: float = help_field(1e-5, "Peak learning rate.")
    lr_scheduler_type: str = help_field("linear", "Learning-rate schedule (transformers names: linear, cosine, constant ...).")
    warmup_steps: float = help_field(0.0, "Learning-rate warm-up: whole steps (e.g. 10) or a share of all steps (e.g. 0.05).")
    weight_decay: float = help_field(0.0, "AdamW weight decay.")
    max_grad_norm: float = help_field(1.0, "Gradient clipping norm.")
    logging_steps: int = help_field(1, "Log the loss every N steps.")
    save_steps: int = help_field(5, "Write a resumable checkpoint every N steps.")
    save_total_limit: int | None = help_field(2, "Keep only the newest N intermediate checkpoints.")
    seed: int = help_field(0, "Seed of model init (tiny), data order and dropout.")
    device: str = help_field("auto", "`cpu`, `gpu` (refused where no CUDA GPU is seen) or `auto`.")
    bf16: bool = help_field(False, "Train in bfloat16 mixed precision (GPU).")
    gradient_checkpointing: bool = help_field(False, "Recompute activations in the backward pass (long sequences).")
    attn_implementation: str | None = help_field(None, "transformers attention kernel, e.g. sdpa or flash_attention_2 (null: default).")
    threads: int | None = help_field(None, "CPU threads for torch (null: torch's default).")
    lora: bool = help_field(False, "Train a LoRA adapter instead of all weights; it is merged into the saved checkpoint.")
    lora_r: int = help_field(16, "LoRA rank.")
    lora_alpha: int = help_field(32, "LoRA scaling alpha.")
    lora_dropout: float = help_field(0.05, "LoRA dropout.")
    lora_target_modules: list[str] = help_field(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                                        "Module names LoRA adapts.")
    trl_args: dict = help_field({}, "Further keyword arguments for the TRL config (checked against its fields), "
                            "e.g. {deepspeed: configs/train/accelerate/zero3.json}.")
    overwrite: bool = help_field(False, "Start afresh even if output_dir holds a run with another config.")

    kind = "base"
    default_split = "sft"

    def validate(self, where: str) -> None:
        def bad(key: str, msg: str) -> UserError:
            return UserError(f"{where}: key `{key}` {msg}")

        if not self.data:
            raise bad("data", "is required: a dataset folder or file (e.g. datasets_out/default)")
        if not self.output_dir:
            raise bad("output_dir", "is required: where the checkpoint goes (e.g. out/train/sft)")
        if self.overlong not in OVERLONG:
            raise bad("overlong", f"must be one of {', '.join(OVERLONG)}, got {self.overlong!r}")
        if self.device not in DEVICES:
            raise bad("device", f"must be one of {', '.join(DEVICES)}, got {self.device!r}")
        for key in ("max_length", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
                    "logging_steps", "save_steps", "lora_r"):
            if getattr(self, key) < 1:
                raise bad(key, f"must be at least 1, got {getattr(self, key)}")
        if not 0 <= self.eval_fraction < 1:
            raise bad("eval_fraction", f"must be in [0, 1), got {self.eval_fraction}")
        if self.limit is not None and self.limit < 1:
            raise bad("limit", f"must be at least 1, got {self.limit}")
        if self.learning_rate <= 0:
            raise bad("learning_rate", f"must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, ignore: tuple[str, ...] = ("max_steps", "save_steps", "save_total_limit", "logging_steps",
                                                     "threads", "overwrite")) -> str:
        """What must not change between a run and its resume."""
        d = {k: v for k, v in self.to_dict().items() if k not in ignore}
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build(cls: type[TrainConfig], data: dict[str, Any], where: str) -> TrainConfig:
    """A checked config of class `cls` from a flat mapping."""
    cfg = config_io.build(cls, data, where, keys_hint=f"`longform train keys {cls.kind}` lists the valid keys")
    cfg.validate(where)
    return cfg


parse_set = config_io.parse_set


def load(cls: type[TrainConfig], config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> TrainConfig:
    if isinstance(config, dict):
        data, where = dict(config), "<config>"
    else:
        data, where = config_io.read_yaml(config, example=f"configs/train/cpu-smoke-{cls.kind}.yaml"), str(config)
    data.update(overrides or {})
    return build(cls, data, where)


def describe_keys(cls: type[TrainConfig]) -> str:
    return config_io.describe_keys(cls)
