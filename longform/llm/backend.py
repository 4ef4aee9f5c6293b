"""The interface each backend file implements: one raw generation, token counting, a description."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from longform.llm.budget import estimate_messages_tokens, estimate_tokens
from longform.llm.types import GenParams, Message, RawCompletion


class Backend(ABC):
    """One model behind one API. Raise `TransientError` for faults worth retrying, `ModelError` otherwise."""

    kind: str = "abstract"
    supports_json_schema: bool = False  # constrained decoding against a JSON schema
    default_concurrency: int = 4
    streams: bool = False  # replies arrive as a stream: silence means a stalled server

    def __init__(self, model_id: str, n_ctx: int):
        self.model_id = model_id  # identifies the weights in cache keys, logs and run records
        self.n_ctx = n_ctx

    @abstractmethod
    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        """One attempt, no retries: the shared layer retries."""

    def count_messages(self, messages: list[Message]) -> int:
        return estimate_messages_tokens(messages)

    def count_text(self, text: str) -> int:
        return estimate_tokens(text)

    def failure_hint(self, cause: BaseException) -> str:
        """How a user fixes a fault that outlasted the retries."""
        return ""

    def describe(self) -> dict[str, Any]:
        return {"backend": self.kind, "model": self.model_id, "n_ctx": self.n_ctx}

    async def aclose(self) -> None:
        return None
