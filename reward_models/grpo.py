"""GRPO reward functions with TRL's signature, one per component so that TRL logs each.

    from longform.reward_models.combined import RewardConfig
    from longform.reward_models.grpo import reward_functions

    funcs, weights = reward_functions(RewardConfig(judge="openai:gpt-4o-mini"))
    GRPOConfig(..., reward_weights=weights, multi_objective_aggregation="normalize_then_sum")
    GRPOTrainer(model, reward_funcs=funcs, args=config, train_dataset=ds)

Each function is `f(prompts, completions, **kwargs) -> list[float | None]` with `__name__` equal to
its component: `length_reward`, `format_reward` (always), `quality_reward` (when `cfg.judge` is a
model spec), `rm_reward` (when `cfg.rm` is a reward-model folder). Prompts and completions may be
strings or conversational (lists of {"role", "content"} messages). Dataset columns reach the
functions as kwargs: `target_words` (N = about N), `lo` and `hi` (an interval; also read as
`constraint_lo` / `constraint_hi`, the dataset job's `raw` columns), or a `constraint` dict;
without them the length comes from the prompt (`longform.lengths.parse_length`), and a prompt that
states none gives None, which TRL treats as "no reward" (NaN, left out of the group's mean).
A judge with no valid verdict gives None as well. Length and format are measured with injected
spans cut out; the quality and RM rewards of a response that addresses its evaluator are 0.

TRL (1.16 here) then combines the functions: with `multi_objective_aggregation="normalize_then_sum"`
it normalises each function's rewards within each prompt's group of generations (mean 0, std 1)
before the weighted sum, which is LongWriter-Zero's per-reward normalisation; the default
"sum_then_normalize" sums first, so a reward with a wide spread would drown the others.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

from longform.reward_models.combined import RewardConfig
from longform.reward_models.format import format_score
from longform.reward_models.injection import strip_injections
from longform.reward_models.length import length_reward as _length_reward
from longform.reward_models.quality import judge, load_scorer, rm_scores

__all__ = ["completion_text", "prompt_text", "reward_functions"]

RewardFunc = Callable[..., list[float | None]]


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the assistant content of a list of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, Sequence):
        parts = [m.get("content") or "" for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "".join(str(p) for p in parts)
    return str(completion)


def prompt_text(prompt: Any) -> str:
    """The instruction of a prompt: a string, or the last user message of a conversation."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m.get("content") or "" for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return str(users[-1]) if users else ""
    return str(prompt)


def _column(kwargs: dict[str, Any], name: str, i: int) -> Any:
    col = kwargs.get(name)
    if col is None or isinstance(col, (str, bytes)) or not isinstance(col, Sequence) or i >= len(col):
        return None
    return col[i]


def _target(kwargs: dict[str, Any], i: int) -> Any:
    lo = _column(kwargs, "lo", i) if "lo" in kwargs else _column(kwargs, "constraint_lo", i)
    hi = _column(kwargs, "hi", i) if "hi" in kwargs else _column(kwargs, "constraint_hi", i)
    if lo is not None and hi is not None and 0 < float(lo) <= float(hi):
        return (float(lo), float(hi))
    con = _column(kwargs, "constraint", i)
    if isinstance(con, dict) and con.get("kind"):
        return con
    n = _column(kwargs, "target_words", i)
    if n is not None and float(n) > 0:
        return int(n)
    return None


class _Loop:
    """One event loop on a daemon thread: the judge's async calls run there from TRL's sync calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="longform-judge-loop", daemon=True).start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


def reward_functions(cfg: RewardConfig | dict[str, Any] | None = None, *, judge_model: Any = None,
                     scorer: Any = None) -> tuple[list[RewardFunc], list[float]]:
    """(reward functions, their weights) for TRL's GRPOTrainer(reward_funcs=...) and GRPOConfig(reward_weights=...).

    `judge_model` / `scorer` pass a ready ChatModel / reward model instead of `cfg.judge` / `cfg.rm`."""
    cfg = cfg if isinstance(cfg, RewardConfig) else RewardConfig.from_dict(cfg)
    cfg.validate()
    penalty = cfg.quality_injection_penalty

    def length_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
        out: list[float | None] = []
        for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
            text, _ = strip_injections(completion_text(c))
            out.append(_length_reward(prompt_text(p), text, _target(kwargs, i), cfg.length_cap))
        return out

    def format_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
        return [format_score(prompt_text(p), completion_text(c)) for p, c in zip(prompts, completions, strict=True)]

    funcs: list[RewardFunc] = [length_reward, format_reward]
    weights = [cfg.weights.length, cfg.weights.format]

    if cfg.judge or judge_model is not None:
        state: dict[str, Any] = {"model": judge_model, "loop": None}

        def _judge_model() -> Any:
            if state["model"] is None:
                from longform.llm import LLMConfig, load_model

                state["model"] = load_model(LLMConfig(model=str(cfg.judge)))
            return state["model"]

        def quality_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
            model = _judge_model()
            if state["loop"] is None:
                state["loop"] = _Loop()

            async def all_verdicts() -> list[Any]:
                return await asyncio.gather(*(
                    judge(model, prompt_text(p), completion_text(c), injection_penalty=penalty, tag="grpo-judge")
                    for p, c in zip(prompts, completions, strict=True)))

            return [v.reward for v in state["loop"].run(all_verdicts())]

        funcs.append(quality_reward)
        weights.append(cfg.weights.quality)

    if cfg.rm or scorer is not None:
        rm_state: dict[str, Any] = {"scorer": scorer}

        def rm_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
            if rm_state["scorer"] is None:
                rm_state["scorer"] = load_scorer(str(cfg.rm))
            pairs = [(prompt_text(p), completion_text(c)) for p, c in zip(prompts, completions, strict=True)]
            return [r["reward"] for r in rm_scores(rm_state["scorer"], pairs, penalty)]

        funcs.append(rm_reward)
        weights.append(cfg.weights.rm)

    return funcs, [float(w) for w in weights]
