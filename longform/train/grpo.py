"""`longform train grpo`: group relative policy optimisation with the project's rewards (TRL GRPOTrainer).

Rewards come from `longform.reward_models.grpo.reward_functions`: `length_reward` and
`format_reward` always, `quality_reward` with a judge (`rewards.judge: SPEC`) and `rm_reward` with a
trained reward model (`rewards.rm: PATH`), weighted by `rewards.weights`. TRL logs each one as
`rewards/<name>/mean` and `/std`; the training record and loss.png carry them per step.

Data: rows with `prompt` (a string or messages), or `messages` (the answer is dropped), or
`instruction`; the columns `target_words`, `lo`, `hi` reach the reward functions, so the `sft` split
of a `longform dataset` folder works as it is.
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

PASS_COLUMNS = ("target_words", "lo", "hi")


@dataclass
class Config(TrainConfig):
    """GRPO: the common fields, plus:"""

    rewards: dict = help_field({}, "Reward config (longform.reward_models.combined.RewardConfig): weights {length, format, "
                           "quality, rm}, length_cap, judge (model spec), rm (reward-model folder), injection penalties.")
    num_generations: int = help_field(4, "Completions sampled per prompt (the group whose rewards are normalised).")
    max_completion_length: int = help_field(256, "Longest completion in tokens; prompt + this must fit in max_length.")
    temperature: float = help_field(1.0, "Sampling temperature of the generations.")
    beta: float = help_field(0.0, "KL penalty against the reference model (0: no reference model is loaded).")
    multi_objective_aggregation: str = help_field("normalize_then_sum", "normalize_then_sum (each reward normalised within its "
                                                                "group, LongWriter-Zero style) or sum_then_normalize.")
    use_vllm: bool = help_field(False, "Generate with vLLM (GPU only).")
    vllm_mode: str = help_field("colocate", "colocate (vLLM shares the training GPUs) or server (a `trl vllm-serve` process).")
    vllm_gpu_memory_utilization: float = help_field(0.3, "colocate: share of GPU memory vLLM may take.")
    vllm_server_base_url: str | None = help_field(None, "server mode: the vLLM server's URL (null: host/port defaults).")

    kind = "grpo"
    default_split = "sft"

    def validate(self, where: str) -> None:
        super().validate(where)
        if self.num_generations < 2:
            raise UserError(f"{where}: key `num_generations` must be at least 2 (rewards are compared within a group)")
        batch = self.per_device_train_batch_size * self.gradient_accumulation_steps
        if batch % self.num_generations:
            raise UserError(f"{where}: per_device_train_batch_size x gradient_accumulation_steps ({batch}) must be a "
                            f"multiple of num_generations ({self.num_generations}); e.g. --set "
                            f"per_device_train_batch_size={self.num_generations}")
        if self.vllm_mode not in ("colocate", "server"):
            raise UserError(f"{where}: key `vllm_mode` must be colocate or server, got {self.vllm_mode!r}")
        reward_config(self, where)


def reward_config(cfg: Config, where: str = "rewards") -> Any:
    from longform.reward_models.combined import RewardConfig

    try:
        rc = RewardConfig.from_dict(cfg.rewards)
    except TypeError as exc:
        raise UserError(f"{where}: key `rewards` has an unknown entry ({exc}); valid: weights, length_cap, judge, rm, "
                        "injection_penalty, quality_injection_penalty") from None
    rc.validate(f"{where}: rewards")
    if rc.rm and not Path(rc.rm).is_dir():
        raise UserError(f"{where}: rewards.rm {rc.rm} is not a folder; train one with `longform train rm`")
    return rc


def __getattr__(name: str) -> Any:
    if name == "TRL_CONFIG":
        from trl import GRPOConfig

        return GRPOConfig
    raise AttributeError(name)


def prepare(rows: list[dict[str, Any]], cfg: Config, where: str) -> list[dict[str, Any]]:
    cols = require_columns(rows, [("prompt",), ("messages",), ("instruction",)], where, "grpo")
    out = []
    for r in rows:
        if cols == ("prompt",):
            prompt = as_messages(r["prompt"], "user")
        elif cols == ("messages",):
            msgs = as_messages(r["messages"], "user")
            prompt = msgs[:-1] if msgs[-1]["role"] == "assistant" else msgs
        else:
            prompt = as_messages(r["instruction"], "user")
        row = {"prompt": prompt}
        for c in PASS_COLUMNS:
            if c in r:
                row[c] = r[c]
        out.append(row)
    return out


def measurer(tokenizer: Any, cfg: Config) -> Callable[[dict[str, Any]], int]:
    return lambda r: chat_tokens(tokenizer, r["prompt"], add_generation_prompt=True) + cfg.max_completion_length


def make_trainer(cfg: Config, model_path: str, tokenizer: Any, train_ds: Any, eval_ds: Any, common: dict[str, Any],
                 peft_config: Any) -> Any:
    from trl import GRPOConfig, GRPOTrainer

    from longform.reward_models.grpo import reward_functions

    funcs, weights = reward_functions(reward_config(cfg))
    common = {k: v for k, v in common.items() if k != "max_length"}
    vllm: dict[str, Any] = {}
    if cfg.use_vllm:
        vllm = {"use_vllm": True, "vllm_mode": cfg.vllm_mode, "vllm_gpu_memory_utilization": cfg.vllm_gpu_memory_utilization,
                    "vllm_max_model_length": cfg.max_length}
        if cfg.vllm_server_base_url:
            vllm["vllm_server_base_url"] = cfg.vllm_server_base_url
    args = GRPOConfig(**common, num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length,
                      temperature=cfg.temperature, beta=cfg.beta, reward_weights=weights,
                      multi_objective_aggregation=cfg.multi_objective_aggregation, **vllm)
    return GRPOTrainer(model=model_path, reward_funcs=funcs, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                       processing_class=tokenizer, peft_config=peft_config)


def after_training(trainer: Any, cfg: Config, out: Path, eval_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each reward component's mean per logged step, and the weights they were combined with."""
    comps: dict[str, list[dict[str, float]]] = {}
    for h in trainer.state.log_history:
        for k, v in h.items():
            if k.startswith("rewards/") and k.endswith("/mean") and "step" in h:
                comps.setdefault(k.split("/")[1], []).append({"step": int(h["step"]), "mean": float(v)})
    return {"reward_components": comps, "reward_weights": dict(zip(trainer.reward_func_names, trainer.reward_weights.tolist()))}
