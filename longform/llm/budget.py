"""Context budget: every prompt fits the model's window (n_ctx minus max_tokens). No call overflows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from longform.errors import UserError
from longform.llm.types import Message

CUT_MARK = "\n[…]\n"
SAFETY_MARGIN_TOKENS = 16  # slack for template tokens a count may miss


@dataclass
class FittedPrompt:
    messages: list[Message]
    max_tokens: int
    prompt_tokens: int
    dropped: int  # history messages removed or cut


def fit_to_window(
    messages: list[Message],
    max_tokens: int,
    n_ctx: int,
    count_messages: Callable[[list[Message]], int],
    count_text: Callable[[str], int],
) -> FittedPrompt:
    """Trim `messages` so that prompt + max_tokens <= n_ctx.

    Order of sacrifice: the completion may not take more than 3/4 of the window; then the oldest
    history turns go (system messages and the last message stay); then the longest remaining
    message loses its middle, keeping its head and tail.
    """
    if max_tokens <= 0:
        raise UserError(f"max_tokens must be positive, got {max_tokens}")
    max_tokens = min(max_tokens, (n_ctx * 3) // 4)
    budget = n_ctx - max_tokens - SAFETY_MARGIN_TOKENS
    msgs = [dict(m) for m in messages]
    dropped = 0
    tokens = count_messages(msgs)
    while tokens > budget:
        history = [i for i, m in enumerate(msgs[:-1]) if m["role"] != "system"]
        if not history:
            break
        del msgs[history[0]]
        dropped += 1
        tokens = count_messages(msgs)
    while tokens > budget:
        longest = max(range(len(msgs)), key=lambda i: len(msgs[i]["content"]))
        excess = tokens - budget
        have = count_text(msgs[longest]["content"])
        if have <= excess + 8:
            raise UserError(
                f"the prompt cannot fit the model's {n_ctx}-token window even after trimming; "
                "shorten the instruction or use a model with a larger context (--n-ctx)"
            )
        msgs[longest]["content"] = _cut_middle(msgs[longest]["content"], have - excess - 8, count_text)
        dropped += 1
        tokens = count_messages(msgs)
    return FittedPrompt(messages=msgs, max_tokens=max_tokens, prompt_tokens=tokens, dropped=dropped)  # type: ignore[arg-type]


def _cut_middle(text: str, keep_tokens: int, count_text: Callable[[str], int]) -> str:
    """Keep the head and tail of `text` within about `keep_tokens` tokens, joined by a cut mark."""
    lo, hi = 0, len(text) // 2
    while lo < hi:  # the largest per-side character count that fits
        mid = (lo + hi + 1) // 2
        if count_text(text[:mid] + CUT_MARK + text[len(text) - mid :]) <= keep_tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + CUT_MARK + text[len(text) - lo :] if lo else CUT_MARK.strip()


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for backends whose tokenizer we do not have.

    Over-counts on purpose: about 3 latin characters a token, and 1.5 tokens a CJK character.
    """
    cjk = sum(1 for ch in text if "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff")
    return (len(text) - cjk + 2) // 3 + (cjk * 3 + 1) // 2


def estimate_messages_tokens(messages: list[Message]) -> int:
    return sum(estimate_tokens(m["content"]) + 6 for m in messages) + 4
