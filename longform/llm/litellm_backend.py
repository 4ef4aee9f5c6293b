"""`litellm:<provider/model>`: every other provider, through `litellm` (pinned to one exact version)."""

from __future__ import annotations

import os
from typing import Any

from longform.errors import ModelError, UserError
from longform.llm.backend import Backend
from longform.llm.openai_compat import DEFAULT_REMOTE_N_CTX, DEFAULT_STALL_TIMEOUT_S, chat_request
from longform.llm.redact import redact_url
from longform.llm.retry import TransientError
from longform.llm.streaming import read_stream
from longform.llm.types import GenParams, Message, RawCompletion, Usage


class LiteLLMBackend(Backend):
    kind = "litellm"
    supports_json_schema = True
    default_concurrency = 8
    streams = True

    def __init__(self, model: str, base_url: str | None = None, n_ctx: int | None = None, timeout_s: float = 600.0,
                 stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S):
        if "/" not in model:
            raise UserError(f"litellm spec needs provider/model, e.g. litellm:anthropic/claude-sonnet-4-5; got {model!r}")
        # litellm fetches its model price map from GitHub when imported; use the copy it ships.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        try:
            litellm.get_llm_provider(model=model, api_base=base_url)
        except Exception:  # noqa: BLE001 - litellm raises its BadRequestError (and others) for an unknown provider
            provider = model.split("/", 1)[0]
            raise UserError(f"litellm does not know the provider {provider!r} in litellm:{model}; use provider/model "
                            "with a provider from https://docs.litellm.ai/docs/providers (e.g. "
                            "litellm:anthropic/claude-sonnet-4-5), or openai:<model> --base-url for an "
                            "OpenAI-compatible server") from None
        if base_url is None:
            env = litellm.validate_environment(model=model)
            if not env.get("keys_in_environment", True):
                missing = ", ".join(env.get("missing_keys") or []) or "the provider's API key"
                raise UserError(f"{missing} is not set for litellm:{model}; export it in the environment")
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.stall_timeout_s = stall_timeout_s
        super().__init__(model_id=f"litellm:{model}" + (f"@{redact_url(base_url)}" if base_url else ""), n_ctx=n_ctx or DEFAULT_REMOTE_N_CTX)

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        import litellm

        kwargs = chat_request(self.model, messages, params) | {
            "timeout": self.timeout_s, "num_retries": 0, "stream": True, "stream_options": {"include_usage": True}}
        if self.base_url:
            kwargs |= {"api_base": self.base_url, "api_key": "not-needed"}
        if params.json_schema is not None:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": params.json_schema}}
        transient = (
            litellm.RateLimitError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.Timeout,
            litellm.APIConnectionError,
            litellm.BadGatewayError,
        )
        try:
            streamed = await read_stream(lambda: litellm.acompletion(**kwargs), stall_s=self.stall_timeout_s,
                                         total_s=self.timeout_s)
        except transient as exc:
            raise TransientError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
        except litellm.AuthenticationError:
            raise ModelError(f"{self.model_id}: authentication failed; check the provider's API key in the environment") from None
        except litellm.APIError as exc:
            raise ModelError(f"{self.model_id} refused the request: {str(exc).splitlines()[0][:200]}") from None
        prompt_tokens = streamed.prompt_tokens if streamed.prompt_tokens is not None else self.count_messages(messages)
        completion_tokens = streamed.completion_tokens if streamed.completion_tokens is not None else streamed.chunks
        return RawCompletion(streamed.text, streamed.finish_reason, Usage(prompt_tokens, completion_tokens))

    def failure_hint(self, cause: BaseException) -> str:
        if str(cause).startswith("stalled"):
            return "The provider accepts connections but does not answer: try again later, or raise --stall-timeout"
        if self.base_url and "connect" in str(cause).lower():
            return f"Cannot reach {redact_url(self.base_url)}: start the server or fix --base-url"
        return "The provider kept failing; check its status or try again later"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": redact_url(self.base_url) if self.base_url else None}
