"""Value types shared by every backend: messages, generation parameters, completions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

Role = Literal["system", "user", "assistant"]


class Message(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class GenParams:
    """Sampling parameters for one completion."""

    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = 0  # None = non-deterministic; such calls are never cached
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    repeat_penalty: float | None = None  # honoured by llama.cpp backends; others ignore it

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass
class RawCompletion:
    """What one backend call returns, before the shared layer adds its bookkeeping."""

    text: str
    finish_reason: str  # "stop" | "length" | other backend reasons
    usage: Usage


@dataclass
class Completion:
    text: str
    finish_reason: str
    usage: Usage
    latency_s: float
    cached: bool = False
    attempts: int = 1
    parsed: Any = None  # the validated JSON value when params.json_schema was set
    fallback: bool = False  # True when `parsed` is the caller's deterministic fallback
    trimmed_messages: int = 0  # how many history messages the context budget dropped or cut
    meta: dict[str, Any] = field(default_factory=dict)
