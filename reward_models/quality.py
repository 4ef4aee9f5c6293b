"""Quality rewards: the LLM judge (LongBench-Write's six dimensions, S_q) and the reward-model scorer.

The judge (`judge(model, instruction, response)`) works with any model spec through the LLM layer
(cached, retried, counted). It scores relevance, accuracy, coherence, clarity, breadth and depth,
and reading experience from 1 to 5; S_q = mean over the six of (x - 1) * 25, in [0, 100].

The response is data, not instructions:
1. the injection guard (reward_models.injection) cuts every span that addresses the evaluator, and
   the judge sees only what is left;
2. the judge sees that text between markers carrying a nonce (a hash of the text), under a system
   prompt that declares it untrusted data; the verdict is JSON validated against
   prompts/judge.schema.json (constrained decoding where the backend has it, then the layer's repairs);
3. a flagged response keeps its S_q (of the text without the spans) for the record, but its reward
   is penalised: reward = S_q / 100 x (1 - injection_penalty), 0 with the default penalty 1.0.
A judge that gives no valid verdict after the layer's repairs yields `missing` (s_q None), never a
made-up number. A response that is empty once the spans are cut gets S_q 0 without a model call.

`RewardModelScorer` is what a trained reward model offers (`reward_models/trained_rm.py`,
`load_reward_model(path)`, written by `longform train rm`): `.score(instruction, response)` and
`.score_many(pairs)` return raw scores (logits); `rm_reward` maps one to [0, 1] with a sigmoid.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from longform.reward_models.injection import Span, strip_injections

from longform.errors import UserError
from longform.llm import GenParams
from longform.prompting import load_schema, render_messages
from longform.text import count_words

__all__ = [
    "DIMENSIONS",
    "JudgeResult",
    "RewardModelScorer",
    "judge",
    "load_scorer",
    "rm_reward",
    "s_q_from",
]

DIMENSIONS: tuple[str, ...] = ("relevance", "accuracy", "coherence", "clarity", "breadth_and_depth", "reading_experience")
JUDGE_MAX_TOKENS = 96
_FIT_MARGIN = 48


def s_q_from(dimensions: dict[str, int]) -> float:
    """LongBench-Write S_q in [0, 100]: the mean over the six dimensions of (score - 1) * 25."""
    missing = [d for d in DIMENSIONS if d not in dimensions]
    if missing:
        raise ValueError(f"verdict lacks dimension(s) {', '.join(missing)}")
    for d in DIMENSIONS:
        if not 1 <= dimensions[d] <= 5:
            raise ValueError(f"{d} must be 1..5, got {dimensions[d]}")
    return sum((dimensions[d] - 1) * 25 for d in DIMENSIONS) / len(DIMENSIONS)


@dataclass
class JudgeResult:
    """One verdict. `s_q` is None when the judge gave no valid verdict (`missing`)."""

    dimensions: dict[str, int] | None
    s_q: float | None
    reward: float | None  # s_q / 100, penalised when the response was flagged; None when missing
    injection: bool
    spans: list[dict[str, Any]] = field(default_factory=list)
    missing: bool = False
    reason: str = ""
    judged_words: int = 0  # words of the (stripped) response
    omitted_words: int = 0  # words left out of the judge's prompt to fit its context window
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _nonce(instruction: str, response: str) -> str:
    return hashlib.sha256(f"{instruction}\x00{response}".encode()).hexdigest()[:12]


def _messages(instruction: str, response: str, nonce: str, omitted: int) -> list[dict[str, str]]:
    return render_messages("judge", instruction=instruction, response=response, nonce=nonce, omitted_words=omitted)


def _fit(model: Any, instruction: str, response: str, nonce: str, max_tokens: int) -> tuple[list[dict[str, str]], int]:
    """The judge's messages, the response's middle cut out (and counted) when the window is too small."""
    budget = model.n_ctx - max_tokens - _FIT_MARGIN
    count = model.backend.count_messages
    msgs = _messages(instruction, response, nonce, 0)
    tokens = count(msgs)
    if tokens <= budget:
        return msgs, 0
    overhead = count(_messages(instruction, "", nonce, 1))
    room = budget - overhead
    if room <= 64:
        raise UserError(f"the judge's {model.n_ctx}-token window cannot hold the instruction and any of the response; "
                        "use a judge with a larger context (--n-ctx) or a shorter instruction")
    keep = len(response)
    for _ in range(6):
        resp_tokens = max(1, model.count_text(response))
        keep = int(keep * min(0.97, room / resp_tokens * 0.97)) if keep == len(response) else int(keep * 0.9)
        head, tail = response[: keep * 2 // 3], response[len(response) - keep // 3 :]
        omitted = count_words(response[len(head) : len(response) - len(tail)])
        msgs = _messages(instruction, f"{head}\n[…]\n{tail}", nonce, omitted)
        if count(msgs) <= budget:
            return msgs, omitted
    raise UserError(f"could not fit the response into the judge's {model.n_ctx}-token window")


async def judge(model: Any, instruction: str, response: str, *, injection_penalty: float = 1.0, seed: int = 0,
                max_tokens: int = JUDGE_MAX_TOKENS, tag: str = "judge") -> JudgeResult:
    """Score `response` to `instruction` with `model` (a longform ChatModel) on the six dimensions."""
    stripped, spans = strip_injections(response or "")
    flagged = bool(spans)
    span_dicts = [s.to_dict() for s in spans]
    words = count_words(stripped)
    describe = model.describe() if hasattr(model, "describe") else {}
    name = str(describe.get("model") or getattr(getattr(model, "backend", None), "model_id", ""))
    if words == 0:
        return JudgeResult(dict.fromkeys(DIMENSIONS, 1), 0.0, 0.0, flagged, span_dicts, reason="empty response",
                           model=name)
    nonce = _nonce(instruction, stripped)
    msgs, omitted = _fit(model, instruction, stripped, nonce, max_tokens)
    params = GenParams(max_tokens=max_tokens, temperature=0.0, seed=seed, json_schema=load_schema("judge"))
    completion = await model.complete(msgs, params, fallback=lambda: None, tag=tag)
    usage = {"prompt_tokens": completion.usage.prompt_tokens, "completion_tokens": completion.usage.completion_tokens}
    if completion.fallback or not isinstance(completion.parsed, dict):
        return JudgeResult(None, None, None, flagged, span_dicts, missing=True,
                           reason="no valid verdict after the layer's repairs", judged_words=words,
                           omitted_words=omitted, usage=usage, cached=completion.cached, model=name)
    dims = {d: int(completion.parsed[d]) for d in DIMENSIONS}
    s_q = s_q_from(dims)
    reward = s_q / 100.0 * ((1.0 - injection_penalty) if flagged else 1.0)
    return JudgeResult(dims, round(s_q, 4), round(max(0.0, reward), 6), flagged, span_dicts, judged_words=words,
                       omitted_words=omitted, usage=usage, cached=completion.cached, model=name)


# --- trained reward models ------------------------------------------------------------------------


@runtime_checkable
class RewardModelScorer(Protocol):
    """A trained reward model: higher raw scores for better responses."""

    def score(self, instruction: str, response: str) -> float: ...

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...


def rm_reward(raw: float, flagged: bool = False, injection_penalty: float = 1.0) -> float:
    """A raw RM score mapped to [0, 1] (sigmoid), penalised like the judge's when flagged."""
    value = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, raw))))
    return value * ((1.0 - injection_penalty) if flagged else 1.0)


def rm_scores(scorer: RewardModelScorer, pairs: Sequence[tuple[str, str]],
              injection_penalty: float = 1.0) -> list[dict[str, Any]]:
    """Score (instruction, response) pairs with the guard: the RM sees each response without its spans."""
    stripped: list[tuple[str, str]] = []
    spans: list[list[Span]] = []
    for instruction, response in pairs:
        text, sp = strip_injections(response or "")
        stripped.append((instruction, text))
        spans.append(sp)
    raws = scorer.score_many(stripped)
    return [{"score": float(raw), "reward": round(rm_reward(float(raw), bool(sp), injection_penalty), 6),
             "injection": bool(sp)} for raw, sp in zip(raws, spans, strict=True)]


def load_scorer(path: str | Path) -> RewardModelScorer:
    """A trained reward model from `path` (imported lazily: only `--rm PATH` needs torch)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"--rm {p}: no such reward-model folder; train one with `longform train rm` or fix the path")
    try:
        from longform.reward_models import trained_rm
    except ImportError as exc:
        if "trained_rm" in str(exc):
            raise UserError("--rm needs reward_models/trained_rm.py (it comes with `longform train rm`), "
                            "which this install does not have yet; score without --rm") from None
        raise UserError(f"--rm needs the training extras (pip install -e '.[train]'): {exc}") from None
    scorer = trained_rm.load_reward_model(p)
    if not isinstance(scorer, RewardModelScorer):
        raise UserError(f"--rm {p}: the loaded model has no score/score_many methods")
    return scorer
