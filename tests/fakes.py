"""A scripted fake backend for control-flow unit tests of agents and pipelines.

It is NOT a model and never stands in for an end-to-end test: those use the real embedded model
(marked `model`). It plugs in under the real shared layer: `ChatModel(backend, cache=None, call_log=...)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from longform.llm import ChatModel
from longform.llm.backend import Backend
from longform.llm.call_log import CallLog
from longform.llm.types import GenParams, Message, RawCompletion, Usage

Step = str | BaseException | Callable[[list[Message], GenParams], str]

_counter = itertools.count()


def prose(n_words: int, start: int | None = None) -> str:
    """`n_words` words of non-repeating sentences (ten words each), in paragraphs of five sentences."""
    base = next(_counter) * 100_000 if start is None else start
    sentences = []
    for i in range(0, n_words, 10):
        k = min(10, n_words - i)
        tokens = [f"w{base + i + j}" for j in range(k)]
        tokens[0] = tokens[0].capitalize()
        sentences.append(" ".join(tokens) + ".")
    paras = [" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)]
    return "\n\n".join(paras)


def looping(n_words: int) -> str:
    """Degenerate text: one sentence over and over."""
    return " ".join(["The empire grew and the empire grew again."] * max(1, n_words // 8))


class ScriptedFakeBackend(Backend):
    """Replies from a script: strings, exceptions to raise, or functions of (messages, params).

    With `default`, the script may run out and `default(messages, params)` answers every later call;
    with `repeat_last`, the script's last step (a reply or an exception) answers every later call.
    """

    kind = "scripted-fake"
    supports_json_schema = False

    def __init__(self, script: list[Step] | None = None, *, default: Callable[[list[Message], GenParams], str] | None = None,
                 n_ctx: int = 8192, repeat_last: bool = False):
        super().__init__(model_id="scripted-fake", n_ctx=n_ctx)
        self.script = list(script or [])
        self.default = default
        self.repeat_last = repeat_last
        self.requests: list[tuple[list[Message], GenParams]] = []

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        self.requests.append((list(messages), params))
        if self.repeat_last and len(self.script) == 1:
            step = self.script[0]
        elif self.script:
            step = self.script.pop(0)
        elif self.default is not None:
            step = self.default
        else:
            raise AssertionError("scripted fake backend ran out of script")
        if isinstance(step, BaseException):
            raise step
        text = step(messages, params) if callable(step) else step
        tokens = max(1, len(text.split()) * 13 // 10)
        finish = "stop"
        if tokens > params.max_tokens:  # honour max_tokens like a real backend
            keep = max(1, params.max_tokens * 10 // 13)
            text = " ".join(text.split(" ")[:keep])
            tokens, finish = params.max_tokens, "length"
        return RawCompletion(text=text, finish_reason=finish, usage=Usage(self.count_messages(messages), tokens))


def fake_model(backend: ScriptedFakeBackend, call_log_path: str | None = None) -> ChatModel:
    """The real shared layer (budget, retries, call log, structured output) over the fake backend."""
    return ChatModel(backend, cache=None, call_log=CallLog(call_log_path) if call_log_path else None)


def plan_json(titles: list[str], words: int = 300) -> str:
    import json

    return json.dumps({"sections": [{"title": t, "main_point": f"About {t.lower()}.", "words": words} for t in titles]})


def prose_zh(n_chars: int) -> str:
    """`n_chars` distinct CJK characters in sentences of twenty, ending in 。"""
    base = next(_counter) * 5_000 % 18_000
    chars = [chr(0x4E00 + (base + i) % 20_000) for i in range(n_chars)]
    return "".join("".join(chars[i : i + 20]) + "。" for i in range(0, n_chars, 20))
