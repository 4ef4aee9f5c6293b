"""What every trainer shares in its config: the model, the data, the length policy, the schedule,
LoRA and the device. Each trainer module declares a subclass with its own fields (as TRL does: a
dataclass with a one-line help per field). Configs are flat YAML mappings; `--set key=value`
overrides one key. Every key is checked before any heavy work: an unknown key names itself and
the closest valid one, a value of the wrong type names the expected type.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from longform.errors import UserError

OVERLONG = ("refuse", "drop")
DEVICES = ("auto", "cpu", "gpu")


def _f(default: Any, help: str) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Fields common to sft, dpo, rm and grpo."""

    model: str = _f("smollm2", "Base model: `smollm2` (SmolLM2-135M-Instruct from the packaged GGUF), `tiny` "
                               "(a small random Llama with the SmolLM2 tokenizer, for smoke tests), a local "
                               "checkpoint folder, `gguf:/path.gguf`, or a hub id (GPU machines).")
    data: str = _f("", "Training data: a `longform dataset` folder (its split subfolder is used), a Parquet/JSONL "
                       "file or folder, or a `datasets.save_to_disk` folder.")
    split: str | None = _f(None, "Subfolder of a `longform dataset` folder to read; null: the trainer's own split.")
    eval_data: str | None = _f(None, "Held-out data in the same format (null: none, or `eval_fraction` of `data`).")
    eval_fraction: float = _f(0.0, "Hold out this share of `data` (by a seeded shuffle) for evaluation.")
    limit: int | None = _f(None, "Use only the first N training rows (after the length check).")
    output_dir: str = _f("", "Where the final checkpoint, training_record.json and loss.png go; "
                             "intermediate checkpoints go to OUTPUT_DIR/checkpoints.")
    max_length: int = _f(1024, "Longest tokenized example (prompt + answer) in tokens.")
    overlong: str = _f("refuse", "Examples longer than max_length: `refuse` (stop with a report) or `drop` "
                                 "(train without them and record how many); never cut.")
    max_steps: int = _f(10, "Optimizer steps in all (a resumed run counts on from its checkpoint).")
    per_device_train_batch_size: int = _f(1, "Examples per device per forward pass.")
    gradient_accumulation_steps: int = _f(1, "Forward passes per optimizer step.")
    learning_rate: float = _f(1e-5, "Peak learning rate.")
    lr_scheduler_type: str = _f("linear", "Learning-rate schedule (transformers names: linear, cosine, constant ...).")
    warmup_steps: float = _f(0.0, "Learning-rate warm-up: whole steps (e.g. 10) or a share of all steps (e.g. 0.05).")
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    max_grad_norm: float = _f(1.0, "Gradient clipping norm.")
    logging_steps: int = _f(1, "Log the loss every N steps.")
    save_steps: int = _f(5, "Write a resumable checkpoint every N steps.")
    save_total_limit: int | None = _f(2, "Keep only the newest N intermediate checkpoints.")
    seed: int = _f(0, "Seed of model init (tiny), data order and dropout.")
    device: str = _f("auto", "`cpu`, `gpu` (refused where no CUDA GPU is seen) or `auto`.")
    bf16: bool = _f(False, "Train in bfloat16 mixed precision (GPU).")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass (long sequences).")
    attn_implementation: str | None = _f(None, "transformers attention kernel, e.g. sdpa or flash_attention_2 (null: default).")
    threads: int | None = _f(None, "CPU threads for torch (null: torch's default).")
    lora: bool = _f(False, "Train a LoRA adapter instead of all weights; it is merged into the saved checkpoint.")
    lora_r: int = _f(16, "LoRA rank.")
    lora_alpha: int = _f(32, "LoRA scaling alpha.")
    lora_dropout: float = _f(0.05, "LoRA dropout.")
    lora_target_modules: list[str] = _f(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                                        "Module names LoRA adapts.")
    trl_args: dict = _f({}, "Further keyword arguments for the TRL config (checked against its fields), "
                            "e.g. {deepspeed: configs/train/accelerate/zero3.json}.")
    overwrite: bool = _f(False, "Start afresh even if output_dir holds a run with another config.")

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


def _type_ok(value: Any, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if origin is None:
        if hint is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if hint is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, hint)
    if origin is list:
        return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    return any(_type_ok(value, a) if a is not type(None) else value is None for a in args)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def build(cls: type[TrainConfig], data: dict[str, Any], where: str) -> TrainConfig:
    """A checked config of class `cls` from a flat mapping."""
    if not isinstance(data, dict):
        raise UserError(f"{where}: the config must be a mapping of keys, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise UserError(f"{where}: unknown key `{key}` for `train {cls.kind}`{hint}; "
                            f"`longform train keys {cls.kind}` lists the valid keys")
        if isinstance(value, int) and not isinstance(value, bool) and hints[key] in (float, float | None):
            value = float(value)
        if not _type_ok(value, hints[key]):
            raise UserError(f"{where}: key `{key}` must be {_type_name(hints[key])}, got {value!r}")
        kwargs[key] = value
    cfg = cls(**kwargs)
    cfg.validate(where)
    return cfg


def parse_set(items: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as YAML (numbers, booleans, lists, null)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--set {item!r} is not KEY=VALUE; e.g. --set max_steps=20")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config file {p} does not exist; pass --config configs/train/<name>.yaml") from None
    except OSError as exc:
        raise UserError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(f"{p}{f': line {mark.line + 1}' if mark else ''}: not valid YAML") from None
    data = data or {}
    if not isinstance(data, dict):
        raise UserError(f"{p}: the top level must be a mapping of keys, got {type(data).__name__}")
    return data


def load(cls: type[TrainConfig], config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> TrainConfig:
    if isinstance(config, dict):
        data, where = dict(config), "<config>"
    else:
        data, where = read_yaml(config), str(config)
    data.update(overrides or {})
    return build(cls, data, where)


def describe_keys(cls: type[TrainConfig]) -> str:
    lines = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]
        lines.append(f"{f.name}: {json.dumps(default)}  # {f.metadata['help']}")
    return "\n".join(lines)
