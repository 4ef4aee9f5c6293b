"""A simulated OpenAI-compatible chat server on loopback: parallelism and throughput can be measured
without a GPU.

It answers POST /v1/chat/completions (streamed or not) with deterministic text at a fixed token
rate per request, with a fixed number of parallel slots (requests beyond them wait), and counts
what it serves. It is a timing model, not a language model: prose replies are numbered filler
words, as many as the request asks for ("about N words", "N more words") up to max_tokens; a
request with a JSON schema gets a minimal instance of the schema.

    python bench/sim_server.py --slots 4 --tokens-per-s 200 --port 8001      # serve until Ctrl-C

    from bench.sim_server import SimServer
    with SimServer(slots=4, tokens_per_s=200, port=0) as srv:
        ... --model openai:sim --base-url srv.base_url ...
        print(srv.stats())          # requests, completed, max_in_flight, completion_tokens, ...

One token is one word. A request takes prompt_tokens / prefill_tokens_per_s (if set) plus
completion_tokens / tokens_per_s once it holds a slot, so with `slots` slots the server's capacity
is slots x tokens_per_s tokens a second.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_ASKED = re.compile(r"(?:about|around|roughly|approximately|约)\s*(\d[\d,]*)\s*(?:more\s+)?(?:words?|字)|(\d[\d,]*)\s*more\s+words", re.IGNORECASE)
_VOCAB = ["river", "stone", "lantern", "harbor", "meadow", "window", "garden", "letter", "winter", "morning", "candle", "market", "bridge", "orchard", "signal", "compass", "ladder", "thunder", "pepper", "violin", "quarry", "cellar", "summit", "ferry", "beacon", "saddle", "copper", "linen", "acorn", "willow", "cobble", "marble", "thistle", "harvest", "kettle", "feather", "anchor", "basket"]
TICK_S = 0.01  # streamed chunks are sent at most this often


@dataclass
class Stats:
    requests: int = 0
    completed: int = 0
    streamed: int = 0
    in_flight: int = 0  # holding a slot
    max_in_flight: int = 0
    waiting: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    busy_s: float = 0.0  # slot-seconds spent generating
    spans: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, tokens), monotonic

    def snapshot(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "spans"} | {"spans": len(self.spans)}


def _digest(*parts: Any) -> int:
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big")


def filler_words(n: int, salt: int) -> list[str]:
    """n words of numbered filler in sentences of twelve (never a repeated 4-gram)."""
    out = []
    for i in range(n):
        w = f"{_VOCAB[(salt + i * 7) % len(_VOCAB)]}{(salt // 7 + i) % 100000}"
        if i % 12 == 0:
            w = w.capitalize()
        if i % 12 == 11 or i == n - 1:
            w += "."
        out.append(w)
    return out


def asked_words(messages: list[dict[str, Any]]) -> int | None:
    """How many words the last user message asks for ("about 300 words", "120 more words")."""
    for m in reversed(messages):
        if m.get("role") == "user":
            found = _ASKED.findall(str(m.get("content", "")))
            if found:
                a, b = found[-1]
                return int((a or b).replace(",", ""))
            return None
    return None


def instance(schema: dict[str, Any], salt: int = 0, depth: int = 0) -> Any:
    """A minimal value that validates against a (simple) JSON schema."""
    if depth > 8:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return instance(schema[key][0], salt, depth + 1)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: instance(props.get(k, {}), salt + i, depth + 1) for i, k in enumerate(schema.get("required", list(props)))}
    if t == "array":
        n = schema.get("minItems", 0)
        return [instance(schema.get("items", {}), salt + i, depth + 1) for i in range(n)]
    if t == "integer":
        lo = schema.get("minimum", 1)
        return int(max(lo, min(schema.get("maximum", lo), lo)))
    if t == "number":
        return float(schema.get("minimum", 1.0))
    if t == "boolean":
        return True
    if t == "null":
        return None
    lo, hi = schema.get("minLength", 1), schema.get("maxLength", 60)
    text = " ".join(filler_words(6, salt)).rstrip(".")
    return (text + " x" * lo)[: max(lo, min(hi, len(text)))]


class SimServer:
    """The simulated server, run on its own thread and event loop (usable from sync or async code)."""

    def __init__(self, slots: int = 4, tokens_per_s: float = 100.0, port: int = 0, host: str = "127.0.0.1",
                 prefill_tokens_per_s: float | None = None, model: str = "sim"):
        if slots < 1 or tokens_per_s <= 0:
            raise ValueError("slots must be >= 1 and tokens_per_s > 0")
        self.slots, self.tokens_per_s, self.prefill = slots, float(tokens_per_s), prefill_tokens_per_s
        self.host, self.port, self.model = host, port, model
        self._stats = Stats()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    # -- public ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def capacity_tokens_per_s(self) -> float:
        return self.slots * self.tokens_per_s

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.snapshot()

    def spans(self) -> list[tuple[float, float, int]]:
        with self._lock:
            return list(self._stats.spans)

    def reset(self) -> None:
        with self._lock:
            self._stats = Stats()

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._serve, name="sim-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"simulated server did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------------
    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._slots = asyncio.Semaphore(self.slots)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/stats", self._stats_route)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "sim"}]})

    async def _stats_route(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def _reply(self, body: dict[str, Any]) -> tuple[str, int, int, str]:
        """(text, prompt tokens, completion tokens, finish reason) for a request."""
        messages = body.get("messages") or []
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)
        prompt_tokens = max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)
        salt = _digest(messages, body.get("seed"), max_tokens)
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else fmt.get("schema")
        if schema is not None or fmt.get("type") == "json_object":
            text = json.dumps(instance(schema or {"type": "object"}, salt), ensure_ascii=False)
            return text, prompt_tokens, max(1, len(text) // 4), "stop"
        wanted = asked_words(messages)
        n = max_tokens if wanted is None else min(max_tokens, max(1, wanted))
        finish = "length" if wanted is None or wanted > max_tokens else "stop"
        return " ".join(filler_words(n, salt)), prompt_tokens, n, finish

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        with self._lock:
            self._stats.requests += 1
            self._stats.waiting += 1
        text, prompt_tokens, tokens, finish = self._reply(body)
        stream = bool(body.get("stream"))
        async with self._slots:
            start = time.monotonic()
            with self._lock:
                self._stats.waiting -= 1
                self._stats.in_flight += 1
                self._stats.max_in_flight = max(self._stats.max_in_flight, self._stats.in_flight)
            try:
                if self.prefill:
                    await asyncio.sleep(prompt_tokens / self.prefill)
                gen_start = time.monotonic()
                if stream:
                    resp = await self._stream(request, body, text, tokens, finish, prompt_tokens, gen_start)
                else:
                    await asyncio.sleep(max(0.0, gen_start + tokens / self.tokens_per_s - time.monotonic()))
                    resp = web.json_response(self._completion(body, text, finish, prompt_tokens, tokens))
            finally:
                end = time.monotonic()
                with self._lock:
                    self._stats.in_flight -= 1
                    self._stats.busy_s += end - start
                    self._stats.spans.append((start, end, tokens))
        with self._lock:
            self._stats.completed += 1
            self._stats.streamed += 1 if stream else 0
            self._stats.prompt_tokens += prompt_tokens
            self._stats.completion_tokens += tokens
        return resp

    def _completion(self, body: dict[str, Any], text: str, finish: str, prompt_tokens: int, tokens: int) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-sim-{_digest(text) % 10**12}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens},
        }

    async def _stream(self, request: web.Request, body: dict[str, Any], text: str, tokens: int, finish: str,
                      prompt_tokens: int, gen_start: float) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        pieces = text.split(" ") if tokens > 1 else [text]
        per_token = len(pieces) / max(1, tokens)
        cid, model = f"chatcmpl-sim-{_digest(text) % 10**12}", body.get("model", self.model)

        def chunk(delta: dict[str, Any], reason: str | None = None, usage: dict[str, int] | None = None) -> bytes:
            d: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                                 "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}
            if usage is not None:
                d["usage"] = usage
            return f"data: {json.dumps(d, ensure_ascii=False)}\n\n".encode()

        await resp.write(chunk({"role": "assistant", "content": ""}))
        sent = 0
        while sent < len(pieces):
            due = gen_start + (sent + 1) / per_token / self.tokens_per_s
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(max(wait, TICK_S))
            elapsed_tokens = int((time.monotonic() - gen_start) * self.tokens_per_s)
            upto = min(len(pieces), max(sent + 1, int(elapsed_tokens * per_token)))
            piece = " ".join(pieces[sent:upto])
            await resp.write(chunk({"content": piece if sent == 0 else " " + piece}))
            sent = upto
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        await resp.write(chunk({}, finish, usage if include_usage else None))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Simulated OpenAI-compatible server (fixed token rate, fixed slots).")
    p.add_argument("--slots", type=int, default=4, help="requests served in parallel")
    p.add_argument("--tokens-per-s", type=float, default=100.0, help="completion tokens a second per request")
    p.add_argument("--prefill-tokens-per-s", type=float, default=None, help="prompt tokens a second (default: free)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    args = p.parse_args(argv)
    srv = SimServer(slots=args.slots, tokens_per_s=args.tokens_per_s, port=args.port, host=args.host,
                    prefill_tokens_per_s=args.prefill_tokens_per_s).start()
    print(f"simulated server on {srv.base_url} ({srv.slots} slots x {srv.tokens_per_s:g} tokens/s); Ctrl-C stops",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print(json.dumps(srv.stats()))
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
