"""Value types shared by every backend: messages, generation parameters, completions."""

from __future__ import annotations

import hashlib
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
    frequency_penalty: float | None = None  # OpenAI semantics (-2..2); llama.cpp applies it to the call's recent tokens
    presence_penalty: float | None = None  # OpenAI semantics (-2..2)
    no_repeat_ngram: int | None = None  # embedded: never emit a token n-gram found in `history` or earlier in the reply (JSON: content only)
    history: tuple[str, ...] = ()  # text whose n-grams `no_repeat_ngram` blocks (data: the model never sees it)
    min_tokens: int | None = None  # embedded and vLLM: no end of reply before this many tokens; others ignore it
    end_at_sentence_after: int | None = None  # embedded: past this many tokens the reply ends at its next sentence end; others ignore it

    def to_dict(self) -> dict[str, Any]:
        """A JSON view for cache keys and call logs. The newer fields appear only when set (keys of
        older calls stay valid); `history` appears as its size and hash, not the text."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        for k in ("frequency_penalty", "presence_penalty", "no_repeat_ngram", "min_tokens", "end_at_sentence_after"):
            if d[k] is None:
                del d[k]
        if self.history:
            joined = "\x00".join(self.history).encode("utf-8")
            d["history"] = {"texts": len(self.history), "chars": sum(len(t) for t in self.history),
                            "sha256": hashlib.sha256(joined).hexdigest()}
        else:
            del d["history"]
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
