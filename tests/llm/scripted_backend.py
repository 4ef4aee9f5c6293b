"""A scripted fake backend, for unit-testing the shared layer's control flow (retries, repair, cache).

It is NOT a model: end-to-end tests use the real embedded model or a real llama_cpp.server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

from longform.llm.backend import Backend
from longform.llm.types import GenParams, Message, RawCompletion, Usage

Step = Union[str, BaseException, Callable[[list[Message], GenParams], str]]


class ScriptedFakeBackend(Backend):
    kind = "scripted-fake"

    def __init__(self, script: list[Step], n_ctx: int = 4096, repeat_last: bool = False):
        super().__init__(model_id="scripted-fake", n_ctx=n_ctx)
        self.script = list(script)
        self.repeat_last = repeat_last
        self.requests: list[tuple[list[Message], GenParams]] = []

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        self.requests.append((list(messages), params))
        if not self.script:
            raise AssertionError("scripted fake backend ran out of script")
        step = self.script[0] if (self.repeat_last and len(self.script) == 1) else self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        text = step(messages, params) if callable(step) else step
        return RawCompletion(text=text, finish_reason="stop", usage=Usage(self.count_messages(messages), len(text) // 4))
