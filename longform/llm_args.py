"""The model flags every command shares (--model, --base-url, --n-ctx, ...), mapped to LLMConfig."""

from __future__ import annotations

import argparse

from longform.llm import LLMConfig, RetryPolicy
from longform.llm.spec import SPEC_HELP


def add_model_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("model")
    g.add_argument("--model", default="embedded", help=f"model spec: {SPEC_HELP} (default: embedded)")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--n-ctx", type=int, default=None, help="context window in tokens (default 8192)")
    g.add_argument("--threads", type=int, default=None,
                   help="embedded model: CPU threads (default: the fastest count, measured while it runs, of the cores this process may use)")
    g.add_argument("--concurrency", type=int, default=None, help="model calls in flight at once")
    g.add_argument("--timeout", type=float, default=600.0, help="total seconds one call may take before it is abandoned and retried")
    g.add_argument("--stall-timeout", type=float, default=60.0,
                   help="seconds a remote call may go without receiving data before it is abandoned and retried")
    g.add_argument("--retries", type=int, default=6, help="attempts per call on transient faults (429, 5xx, timeouts)")
    g.add_argument("--cache", default=None, help="request cache (SQLite); default ~/.cache/longform/requests.sqlite")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the request cache")


def llm_config_from_args(args: argparse.Namespace, call_log_path: str | None = None) -> LLMConfig:
    if args.retries < 1:
        from longform.errors import UserError

        raise UserError(f"--retries must be at least 1, got {args.retries}")
    return LLMConfig(
        model=args.model,
        base_url=args.base_url,
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        max_concurrency=args.concurrency,
        timeout_s=args.timeout,
        stall_timeout_s=args.stall_timeout,
        cache_path=args.cache,
        no_cache=args.no_cache,
        call_log_path=call_log_path,
        retry=RetryPolicy(max_attempts=args.retries),
    )
