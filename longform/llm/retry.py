"""Bounded retries with exponential backoff and jitter, for transient backend faults only."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from longform.errors import ModelError

T = TypeVar("T")


class TransientError(Exception):
    """A fault worth retrying: 429, 5xx, timeout, dropped connection, malformed response."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a transient fault before giving up."""

    max_attempts: int = 6  # total tries, the first one included
    initial_wait_s: float = 0.5  # backoff base; doubles each attempt, with full jitter
    max_wait_s: float = 8.0  # cap on one backoff sleep
    max_elapsed_s: float = 120.0  # give up once this much time has passed since the first try


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    what: str,
    hint: Callable[[BaseException], str],
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> tuple[T, int]:
    """Run `attempt` until it succeeds or the policy is spent; return (result, attempts used).

    Only `TransientError` is retried; anything else propagates at once. `on_retry(attempt, cause,
    wait_s)` hears of each failed attempt that will be retried (for progress displays).
    On exhaustion raises ModelError naming `what`, the attempt count and the last cause.
    """
    started = time.monotonic()
    tries = 0
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_elapsed_s),
        wait=wait_random_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s),
        retry=retry_if_exception_type(TransientError),
        reraise=False,
        before_sleep=(lambda rs: on_retry(rs.attempt_number, rs.outcome.exception(), rs.next_action.sleep))
        if on_retry else None,
    )
    try:
        async for try_ in retrying:
            with try_:
                tries += 1
                result = await attempt()
        return result, tries
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        elapsed = time.monotonic() - started
        msg = f"{what} failed after {tries} attempts in {elapsed:.1f}s: {str(cause).rstrip('.')}"
        extra = hint(cause) if cause is not None else ""
        raise ModelError(f"{msg}. {extra}".strip()) from None
