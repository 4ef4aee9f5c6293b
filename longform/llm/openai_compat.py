"""`openai:<model>`: the official `openai` client, for OpenAI and any OpenAI-compatible server
(`vllm serve`, `python -m llama_cpp.server`, SGLang) given by base URL."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from longform.errors import ModelError, UserError
from longform.llm.backend import Backend
from longform.llm.redact import redact_url
from longform.llm.retry import TransientError
from longform.llm.streaming import read_stream
from longform.llm.types import GenParams, Message, RawCompletion, Usage

DEFAULT_REMOTE_N_CTX = 8192
DEFAULT_STALL_TIMEOUT_S = 60.0


class OpenAIBackend(Backend):
    kind = "openai"
    supports_json_schema = True
    default_concurrency = 8
    streams = True

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        n_ctx: int | None = None,
        timeout_s: float = 600.0,
        api_key_env: str = "OPENAI_API_KEY",
        stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
    ):
        import openai  # noqa: F401  (fail early if missing)

        if not model:
            raise UserError("the openai spec needs a model name: use openai:<model>, e.g. openai:gpt-4o-mini")
        api_key = os.environ.get(api_key_env)
        if not api_key:
            if base_url is None:
                raise UserError(
                    f"{api_key_env} is not set; export it, or pass --base-url for a local "
                    "OpenAI-compatible server (vllm serve, llama_cpp.server)"
                )
            api_key = "not-needed"  # local servers accept any key
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise UserError(f"--base-url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.stall_timeout_s = stall_timeout_s
        self._stream_usage = True  # ask for usage in the stream's last chunk (OpenAI, vLLM, SGLang)
        self._api_key = api_key
        self._clients: dict[int, Any] = {}
        self._schema_style = "json_schema"  # OpenAI, vLLM, SGLang; llama_cpp.server needs "json_object"
        super().__init__(model_id=f"openai:{model}" + (f"@{redact_url(base_url)}" if base_url else ""), n_ctx=n_ctx or DEFAULT_REMOTE_N_CTX)
        self.model = model

    def _client(self) -> Any:
        import openai

        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._clients:
            url, query = split_query(self.base_url)
            # Retries are ours (bounded, with jitter); the client's own are off.
            self._clients = {
                loop_id: openai.AsyncOpenAI(
                    api_key=self._api_key, base_url=url, default_query=query or None, timeout=self.timeout_s,
                    max_retries=0,
                )
            }
        return self._clients[loop_id]

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        import httpx
        import openai

        kwargs = chat_request(self.model, messages, params) | {"stream": True}
        if self._stream_usage:
            kwargs["stream_options"] = {"include_usage": True}
        if params.json_schema is not None:
            kwargs["response_format"] = self._response_format(params.json_schema)
        if params.repeat_penalty is not None and self.base_url is not None:
            kwargs["extra_body"] = {"repeat_penalty": params.repeat_penalty, "repetition_penalty": params.repeat_penalty}
        try:
            streamed = await read_stream(lambda: self._client().chat.completions.create(**kwargs),
                                         stall_s=self.stall_timeout_s, total_s=self.timeout_s)
        except openai.APIStatusError as exc:
            if params.json_schema is not None and self._schema_style == "json_schema" and _rejects_format(exc):
                # llama_cpp.server knows only {"type": "json_object", "schema": ...}; switch once and retry.
                self._schema_style = "json_object"
                return await self.generate(messages, params)
            if self._stream_usage and _rejects(exc, "stream_options"):
                self._stream_usage = False  # an older server: count tokens ourselves
                return await self.generate(messages, params)
            if isinstance(exc, (openai.RateLimitError, openai.InternalServerError)) or exc.status_code in (408, 409):
                raise TransientError(_describe(exc)) from exc
            if exc.status_code >= 500:
                raise TransientError(_describe(exc)) from exc
            raise ModelError(f"{self.model_id} refused the request: {_describe(exc)}") from None
        except (openai.APITimeoutError, openai.APIConnectionError, httpx.TransportError) as exc:
            raise TransientError(_describe(exc)) from exc
        except (json.JSONDecodeError, openai.APIResponseValidationError, openai.APIError, UnicodeDecodeError) as exc:
            raise TransientError(f"malformed response: {_describe(exc)}") from exc
        prompt_tokens = streamed.prompt_tokens if streamed.prompt_tokens is not None else self.count_messages(messages)
        completion_tokens = streamed.completion_tokens if streamed.completion_tokens is not None else streamed.chunks
        return RawCompletion(streamed.text, streamed.finish_reason, Usage(prompt_tokens, completion_tokens))

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._schema_style == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}

    def failure_hint(self, cause: BaseException) -> str:
        where = redact_url(self.base_url) if self.base_url else "api.openai.com"
        if str(cause).startswith("stalled"):
            return (f"The server at {where} accepts connections but does not answer: check that it is not hung "
                    "or overloaded, or raise --stall-timeout")
        if "connect" in str(cause).lower():
            return f"Cannot reach {where}: start the server or fix --base-url"
        return f"The server at {where} kept failing; check its logs or try again later"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": redact_url(self.base_url) if self.base_url else None}

    async def aclose(self) -> None:
        for client in self._clients.values():
            try:
                await client.close()
            except RuntimeError:  # its loop is gone
                pass
        self._clients = {}


def chat_request(model: str, messages: list[Message], params: GenParams) -> dict[str, Any]:
    """The OpenAI chat-completions arguments that `params` maps to (litellm takes the same)."""
    kwargs: dict[str, Any] = {
        "model": model, "messages": list(messages), "max_tokens": params.max_tokens, "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if params.seed is not None:
        kwargs["seed"] = params.seed
    if params.stop:
        kwargs["stop"] = list(params.stop)
    if params.frequency_penalty is not None:
        kwargs["frequency_penalty"] = params.frequency_penalty
    if params.presence_penalty is not None:
        kwargs["presence_penalty"] = params.presence_penalty
    return kwargs


def split_query(base_url: str | None) -> tuple[str | None, dict[str, str]]:
    """(URL without its query, the query's parameters): the client appends paths to the base URL, so
    parameters such as `?api-version=...&api_key=...` travel as default query parameters instead."""
    if not base_url:
        return base_url, {}
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(query="")), dict(parse_qsl(parts.query, keep_blank_values=True))


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:200] if str(exc) else name
    return f"{name} (HTTP {status}): {text}" if status else f"{name}: {text}"


def _rejects(exc: Exception, field: str) -> bool:
    return getattr(exc, "status_code", 0) in (400, 422) and field in str(exc).lower()


def _rejects_format(exc: Exception) -> bool:
    text = str(exc).lower()
    return getattr(exc, "status_code", 0) in (400, 422, 500) and ("response_format" in text or "json_schema" in text)
