"""ChatModel: the one async interface every agent calls. Wraps a backend with the shared machinery:
context budget, request cache, concurrency limit, bounded retries, usage accounting, call log and
structured output (constrained decoding, validation, repair, recorded fallback)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from longform.errors import StructuredOutputError
from longform.llm.activity import CallActivity
from longform.llm.backend import Backend
from longform.llm.budget import fit_to_window
from longform.llm.cache import RequestCache, request_key
from longform.llm.call_log import CallLog
from longform.llm.retry import RetryPolicy, call_with_retries
from longform.llm.structured import check_schema, parse_and_validate, repair_message
from longform.llm.types import Completion, GenParams, Message, RawCompletion, Usage


class ChatModel:
    def __init__(
        self,
        backend: Backend,
        *,
        cache: RequestCache | None = None,
        call_log: CallLog | None = None,
        max_concurrency: int | None = None,
        retry: RetryPolicy = RetryPolicy(),
        repair_attempts: int = 2,
    ):
        self.backend = backend
        self.cache = cache
        self.call_log = call_log
        self.max_concurrency = max_concurrency or backend.default_concurrency
        self.retry = retry
        self.repair_attempts = repair_attempts
        self.usage = Usage()  # tokens the backend really processed (cache hits excluded)
        self.calls = 0  # backend calls made
        self.cache_hits = 0
        self._limiters: dict[int, asyncio.Semaphore] = {}
        self.activity = CallActivity()  # calls in flight and retries, for progress displays

    @property
    def n_ctx(self) -> int:
        return self.backend.n_ctx

    def count_text(self, text: str) -> int:
        return self.backend.count_text(text)

    def describe(self) -> dict[str, Any]:
        return self.backend.describe()

    async def complete(
        self,
        messages: list[Message],
        params: GenParams = GenParams(),
        *,
        fallback: Callable[[], Any] | None = None,
        tag: str = "",
    ) -> Completion:
        """One chat completion. With params.json_schema set, `parsed` holds the validated value.

        `fallback` (structured calls only) returns a deterministic value used when every repair fails;
        the completion is then marked `fallback=True` and the call log records it.
        `tag` names the call in the call log (e.g. "section-3").
        """
        if params.json_schema is None:
            return await self._complete_once(messages, params, tag)
        check_schema(params.json_schema)
        history = list(messages)
        problem = ""
        first: Completion | None = None
        for attempt in range(1 + self.repair_attempts):
            p = params if attempt == 0 else dataclasses.replace(params, seed=_bump(params.seed, attempt))
            completion = await self._complete_once(history, p, tag if attempt == 0 else f"{tag}:repair{attempt}")
            first = first or completion
            value, problem = parse_and_validate(completion.text, params.json_schema)
            if problem is None:
                completion.parsed = value
                completion.meta["repairs"] = attempt
                return completion
            history = list(messages) + [
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": repair_message(problem, params.json_schema)},
            ]
        if fallback is None:
            raise StructuredOutputError(
                f"{self.backend.kind} model {self.backend.model_id} gave no valid JSON after "
                f"{1 + self.repair_attempts} tries (last: {problem}); use a stronger model or pass a fallback"
            )
        assert first is not None
        first.parsed = fallback()
        first.fallback = True
        first.meta["repairs"] = self.repair_attempts
        if self.call_log:
            self.call_log.write({"tag": tag, "event": "structured_fallback", "problem": problem, "value": first.parsed})
        return first

    async def _complete_once(self, messages: list[Message], params: GenParams, tag: str) -> Completion:
        fitted = fit_to_window(
            messages, params.max_tokens, self.backend.n_ctx, self.backend.count_messages, self.backend.count_text
        )
        if fitted.max_tokens != params.max_tokens:
            params = dataclasses.replace(params, max_tokens=fitted.max_tokens)
        key = request_key(self.backend.model_id, fitted.messages, params)
        use_cache = self.cache is not None and params.seed is not None
        if use_cache:
            hit = self.cache.get(key)  # type: ignore[union-attr]
            if hit is not None:
                self.cache_hits += 1
                completion = Completion(
                    text=hit["text"],
                    finish_reason=hit["finish_reason"],
                    usage=Usage(**hit["usage"]),
                    latency_s=0.0,
                    cached=True,
                    attempts=0,
                    trimmed_messages=fitted.dropped,
                )
                self._log(tag, key, fitted.messages, params, completion)
                return completion

        async with self._limiter():
            started = time.monotonic()  # latency excludes the wait for a slot (parallel callers queue here)
            call = self.activity.start()
            try:
                raw, attempts = await call_with_retries(
                    lambda: self.backend.generate(fitted.messages, params),
                    self.retry,
                    what=f"{self.backend.kind} model {self.backend.model_id}",
                    hint=self.backend.failure_hint,
                    on_retry=lambda attempt, cause, wait: self.activity.notify(
                        "retry", tag=tag, attempt=attempt, cause=str(cause), wait_s=wait),
                )
            finally:
                self.activity.end(call)
        latency = time.monotonic() - started
        self.calls += 1
        self.usage.add(raw.usage)
        if use_cache:
            self.cache.put(key, self.backend.model_id, _raw_to_dict(raw))  # type: ignore[union-attr]
        completion = Completion(
            text=raw.text,
            finish_reason=raw.finish_reason,
            usage=raw.usage,
            latency_s=latency,
            attempts=attempts,
            trimmed_messages=fitted.dropped,
        )
        self._log(tag, key, fitted.messages, params, completion)
        return completion

    def _limiter(self) -> asyncio.Semaphore:
        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._limiters:
            self._limiters = {loop_id: asyncio.Semaphore(self.max_concurrency)}
        return self._limiters[loop_id]

    def _log(self, tag: str, key: str, messages: list[Message], params: GenParams, c: Completion) -> None:
        if self.call_log is None:
            return
        self.call_log.write(
            {
                "tag": tag,
                "cache_key": key[:16],
                "backend": self.backend.kind,
                "model": self.backend.model_id,
                "messages": messages,
                "params": params.to_dict(),
                "text": c.text,
                "finish_reason": c.finish_reason,
                "usage": {"prompt_tokens": c.usage.prompt_tokens, "completion_tokens": c.usage.completion_tokens},
                "latency_s": round(c.latency_s, 3),
                "cached": c.cached,
                "attempts": c.attempts,
                "trimmed_messages": c.trimmed_messages,
            }
        )

    async def aclose(self) -> None:
        await self.backend.aclose()
        if self.cache is not None:
            self.cache.close()


def _bump(seed: int | None, attempt: int) -> int | None:
    return None if seed is None else seed + 7919 * attempt


def _raw_to_dict(raw: RawCompletion) -> dict[str, Any]:
    return {
        "text": raw.text,
        "finish_reason": raw.finish_reason,
        "usage": {"prompt_tokens": raw.usage.prompt_tokens, "completion_tokens": raw.usage.completion_tokens},
    }
