"""The LLM layer: one async interface (`ChatModel.complete`) over four backends, chosen by a model spec."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from longform.errors import UserError
from longform.llm.backend import Backend
from longform.llm.cache import RequestCache
from longform.llm.call_log import CallLog
from longform.llm.chat_model import ChatModel
from longform.llm.retry import RetryPolicy
from longform.llm.spec import ModelSpec, parse_spec
from longform.llm.types import Completion, GenParams, Message, Usage

__all__ = [
    "Backend",
    "ChatModel",
    "Completion",
    "GenParams",
    "LLMConfig",
    "Message",
    "RetryPolicy",
    "Usage",
    "default_cache_path",
    "load_model",
    "make_backend",
    "parse_spec",
]


def default_cache_path() -> Path:
    root = os.environ.get("LONGFORM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "longform"
    )
    return Path(root) / "requests.sqlite"


@dataclass
class LLMConfig:
    """Which model to call and how."""

    model: str = field(default="embedded", metadata={"help": "Model spec: embedded, openai:<m>, litellm:<p/m>, vllm:<path>."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible server URL (vllm serve, llama_cpp.server)."})
    n_ctx: int | None = field(default=None, metadata={"help": "Context window in tokens; default 8192 (the embedded model's)."})
    n_threads: int | None = field(default=None, metadata={"help": "embedded: CPU threads (default: measured, from the cores this process may use)."})
    max_concurrency: int | None = field(default=None, metadata={"help": "Calls in flight at once; default per backend."})
    timeout_s: float = field(default=600.0, metadata={"help": "Total seconds one remote call may take before it is abandoned and retried."})
    stall_timeout_s: float = field(default=60.0, metadata={"help": "Seconds a remote call may go without receiving data before it is abandoned and retried."})
    cache_path: str | None = field(default=None, metadata={"help": "SQLite request cache; default ~/.cache/longform."})
    no_cache: bool = field(default=False, metadata={"help": "Do not read or write the request cache."})
    call_log_path: str | None = field(default=None, metadata={"help": "JSONL call log (secrets redacted)."})
    retry: RetryPolicy = field(default_factory=RetryPolicy, metadata={"help": "Retry bounds for transient faults."})


GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> None:
    """A clear error for `embedded:PATH` that is missing or not a GGUF file (llama.cpp would only
    say 'Failed to load model')."""
    if not path.is_file():
        raise UserError(f"no GGUF file at {path}; pass `embedded:/path/to/model.gguf` with an existing file")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise UserError(f"{path} is not a GGUF model file (it does not start with 'GGUF'); convert the weights "
                        "to GGUF (llama.cpp's convert_hf_to_gguf.py) or use transformers:PATH for a checkpoint folder")


def make_backend(config: LLMConfig) -> Backend:
    spec: ModelSpec = parse_spec(config.model)
    if config.n_ctx is not None and config.n_ctx < 256:
        raise UserError(f"--n-ctx must be at least 256 tokens, got {config.n_ctx}")
    if config.n_threads is not None and not 1 <= config.n_threads <= 256:
        raise UserError(f"--threads must be between 1 and 256, got {config.n_threads}")
    if config.max_concurrency is not None and not 1 <= config.max_concurrency <= 1024:
        raise UserError(f"--concurrency must be between 1 and 1024 calls in flight, got {config.max_concurrency}")
    if not config.timeout_s > 0:
        raise UserError(f"--timeout must be a positive number of seconds, got {config.timeout_s:g}")
    if not config.stall_timeout_s > 0:
        raise UserError(f"--stall-timeout must be a positive number of seconds, got {config.stall_timeout_s:g}")
    if spec.kind == "embedded":
        from longform.llm.embedded import EmbeddedBackend

        if spec.name:
            check_gguf(Path(spec.name))

        return EmbeddedBackend(spec.name or None, n_ctx=config.n_ctx, n_threads=config.n_threads)
    if spec.kind == "openai":
        from longform.llm.openai_compat import OpenAIBackend

        return OpenAIBackend(spec.name, base_url=config.base_url, n_ctx=config.n_ctx, timeout_s=config.timeout_s,
                             stall_timeout_s=config.stall_timeout_s)
    if spec.kind == "litellm":
        from longform.llm.litellm_backend import LiteLLMBackend

        return LiteLLMBackend(spec.name, base_url=config.base_url, n_ctx=config.n_ctx, timeout_s=config.timeout_s,
                              stall_timeout_s=config.stall_timeout_s)
    if spec.kind == "transformers":
        from longform.llm.transformers_backend import TransformersBackend

        return TransformersBackend(spec.name, n_ctx=config.n_ctx, n_threads=config.n_threads)
    from longform.llm.vllm_backend import VLLMBackend

    return VLLMBackend(spec.name, n_ctx=config.n_ctx)


def load_model(config: LLMConfig | None = None, **overrides: object) -> ChatModel:
    """Build a ChatModel from a config (or keyword overrides of the defaults)."""
    config = config or LLMConfig(**overrides)  # type: ignore[arg-type]
    backend = make_backend(config)
    cache = None if config.no_cache else RequestCache(config.cache_path or default_cache_path())
    call_log = CallLog(config.call_log_path) if config.call_log_path else None
    return ChatModel(
        backend, cache=cache, call_log=call_log, max_concurrency=config.max_concurrency, retry=config.retry
    )
