"""The combined reward: every component of one response, and their weighted mean.

    combined = sum(w_i * r_i) / sum(w_i)  over the components that exist for this response
               - injection_penalty          when the response addresses its evaluator (floor 0)

Components (each in [0, 1]): `length` (range reward; absent when no length is stated or given),
`format` (format score), `quality` (judge's S_q / 100; absent without a judge, `missing` when the
judge gave no valid verdict) and `rm` (sigmoid of a trained reward model's score; absent without
one). A missing or absent component is left out and the weights of the others are renormalised;
the result lists what was left out and why. Length and format are measured on the response with
its injected spans cut out, so an injection never buys length; the quality and RM rewards of a
flagged response are 0 (see quality.py) and so is its format injection part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from longform.reward_models.format import format_scores
from longform.reward_models.injection import strip_injections
from longform.reward_models.length import DEFAULT_CAP, length_components
from longform.reward_models.quality import RewardModelScorer, judge, rm_scores

__all__ = ["COMPONENTS", "RewardConfig", "RewardWeights", "combine", "load_reward_config", "reward_config_from_dict",
           "score_all"]

COMPONENTS: tuple[str, ...] = ("length", "format", "quality", "rm")


@dataclass
class RewardWeights:
    """Weight of each reward component in the combined reward (and in GRPO's reward_weights)."""

    length: float = field(default=1.0, metadata={"help": "Weight of the length (range) reward."})
    format: float = field(default=1.0, metadata={"help": "Weight of the format reward (repetition, ending, structure)."})
    quality: float = field(default=1.0, metadata={"help": "Weight of the judge's S_q / 100 (used only with a judge)."})
    rm: float = field(default=1.0, metadata={"help": "Weight of the trained reward model's reward (used only with --rm)."})

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


@dataclass
class RewardConfig:
    """How responses are rewarded: weights, the length cap, the judge and RM, the injection penalty."""

    weights: RewardWeights = field(default_factory=RewardWeights, metadata={"help": "Component weights."})
    length_cap: float = field(default=DEFAULT_CAP,
                              metadata={"help": "Range reward falls linearly from 1 at hi to 0 at length_cap x hi."})
    judge: str | None = field(default=None,
                              metadata={"help": "Judge model spec (embedded, openai:<m>, ...); null: no quality reward."})
    rm: str | None = field(default=None, metadata={"help": "Trained reward model folder (longform train rm); null: none."})
    injection_penalty: float = field(
        default=0.25, metadata={"help": "Subtracted from the combined reward of a response that addresses its evaluator."})
    quality_injection_penalty: float = field(
        default=1.0, metadata={"help": "Share of the judge's and the RM's reward removed from a flagged response."})

    def validate(self, where: str = "rewards") -> RewardConfig:
        from longform.errors import UserError

        for name, w in self.weights.as_dict().items():
            if w < 0:
                raise UserError(f"{where}: weight `{name}` must be >= 0, got {w}")
        if self.length_cap <= 1:
            raise UserError(f"{where}: `length_cap` must be > 1 (the length reward is 0 at cap x hi), got {self.length_cap}")
        for name in ("injection_penalty", "quality_injection_penalty"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"{where}: `{name}` must be in [0, 1], got {getattr(self, name)}")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "rewards") -> RewardConfig:
        """Every key and type checked (see reward_config_from_dict)."""
        return reward_config_from_dict(data or {}, where)


def reward_config_from_dict(data: Any, where: str = "rewards") -> RewardConfig:
    """A checked RewardConfig from a mapping; an unknown key or a wrong type is a UserError naming it."""
    from longform.config_io import build

    return build(RewardConfig, data, where).validate(where)


def load_reward_config(path: str | Any) -> RewardConfig:
    """A RewardConfig from a YAML file (configs/rewards/*.yaml)."""
    from longform.config_io import read_yaml

    return reward_config_from_dict(read_yaml(path, example="configs/rewards/default.yaml"), str(path))


def combine(values: dict[str, float | None], weights: RewardWeights, flagged: bool,
            injection_penalty: float) -> tuple[float | None, dict[str, float]]:
    """(combined reward or None when no component exists, the normalised weights used)."""
    w = weights.as_dict()
    used = {k: w[k] for k, v in values.items() if v is not None and w.get(k, 0) > 0}
    total = sum(used.values())
    if total <= 0:
        return None, {}
    value = sum(values[k] * wk for k, wk in used.items()) / total  # type: ignore[operator]
    if flagged:
        value = max(0.0, value - injection_penalty)
    return round(value, 6), {k: round(wk / total, 6) for k, wk in used.items()}


async def score_all(instruction: str, response: str, *, target: Any = None, cfg: RewardConfig | None = None,
                    judge_model: Any = None, rm: RewardModelScorer | None = None, seed: int = 0) -> dict[str, Any]:
    """Every component of one response and the combined reward, as one JSON-ready dict."""
    cfg = cfg or RewardConfig()
    stripped, spans = strip_injections(response or "")
    length = length_components(instruction, stripped, target, cfg.length_cap)
    fmt = format_scores(instruction, response or "")
    quality = None
    if judge_model is not None:
        quality = (await judge(judge_model, instruction, response or "", seed=seed,
                               injection_penalty=cfg.quality_injection_penalty)).to_dict()
    rm_part = rm_scores(rm, [(instruction, response or "")], cfg.quality_injection_penalty)[0] if rm is not None else None
    values: dict[str, float | None] = {
        "length": length["reward"], "format": fmt["format_score"],
        "quality": quality["reward"] if quality else None, "rm": rm_part["reward"] if rm_part else None,
    }
    left_out = {}
    if length["reward"] is None:
        left_out["length"] = "no target: the instruction states no length (give --words or --range)"
    if quality is None:
        left_out["quality"] = "no judge"
    elif quality["missing"]:
        left_out["quality"] = f"missing: {quality['reason']}"
    if rm_part is None:
        left_out["rm"] = "no reward model"
    combined, used = combine(values, cfg.weights, bool(spans), cfg.injection_penalty)
    return {
        "words": length["words"],
        "length": length,
        "format": fmt,
        "quality": quality,
        "rm": rm_part,
        "injection": {"flagged": bool(spans), "spans": [s.to_dict() for s in spans]},
        "rewards": values,
        "combined": combined,
        "weights_used": used,
        "left_out": left_out,
    }
