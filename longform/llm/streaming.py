"""Read a streamed OpenAI-shaped chat completion under two bounds: a stall timeout (no data for N
seconds: the server accepted the connection but stopped answering) and a total timeout. Both are
transient faults, retried by the layer's bounded policy; their messages say which bound was hit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from longform.llm.activity import touch_current_call
from longform.llm.retry import TransientError


@dataclass
class StreamedCompletion:
    text: str
    finish_reason: str
    prompt_tokens: int | None  # None when the server sent no usage
    completion_tokens: int | None
    chunks: int  # content-bearing chunks (about one token each on vLLM and llama.cpp)


def stall_message(stall_s: float, received: int) -> str:
    where = "before the first chunk" if received == 0 else f"after {received} chunk(s)"
    return (f"stalled: no data from the server for {stall_s:g}s {where} (the connection is open but the server "
            "stopped answering; --stall-timeout sets this bound)")


async def read_stream(
    open_stream: Callable[[], Awaitable[Any]], *, stall_s: float, total_s: float
) -> StreamedCompletion:
    """Open the stream and read it to the end; raise TransientError on a stall or when total_s passes."""
    deadline = time.monotonic() + total_s
    received = 0  # stream chunks of any kind
    content_chunks = 0

    async def bounded(aw: Awaitable[Any]) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TransientError(f"timed out: the reply took longer than the total bound of {total_s:g}s (--timeout)")
        try:
            return await asyncio.wait_for(aw, timeout=min(stall_s, remaining))
        except asyncio.TimeoutError:
            if stall_s < remaining:
                raise TransientError(stall_message(stall_s, received)) from None
            raise TransientError(
                f"timed out: the reply took longer than the total bound of {total_s:g}s (--timeout)") from None

    stream = await bounded(open_stream())
    touch_current_call()
    parts: list[str] = []
    finish = ""
    prompt_tokens = completion_tokens = None
    iterator = stream.__aiter__()
    try:
        while True:
            try:
                chunk = await bounded(iterator.__anext__())
            except StopAsyncIteration:
                break
            touch_current_call()
            received += 1
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                prompt_tokens = getattr(usage, "prompt_tokens", None)
                completion_tokens = getattr(usage, "completion_tokens", None)
            for choice in getattr(chunk, "choices", None) or []:
                delta = getattr(choice, "delta", None)
                content = getattr(delta, "content", None) if delta is not None else None
                if content:
                    parts.append(content)
                    content_chunks += 1
                if getattr(choice, "finish_reason", None):
                    finish = choice.finish_reason
    finally:
        await _close(stream)
    if not parts and not finish:
        raise TransientError("malformed response: the stream carried no completion")
    return StreamedCompletion("".join(parts), finish or "stop", prompt_tokens, completion_tokens, content_chunks)


async def _close(stream: Any) -> None:
    for name in ("aclose", "close"):
        closer = getattr(stream, name, None)
        if closer is None:
            continue
        try:
            result = closer()
            if asyncio.iscoroutine(result):
                await asyncio.wait_for(result, timeout=5)
        except Exception:  # noqa: BLE001, S110 - closing a broken stream must not hide the real outcome
            pass
        return
