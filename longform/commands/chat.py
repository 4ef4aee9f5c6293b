"""`longform chat`: one completion from any model spec; the quickest check that a model works.

Usage:
    longform chat "Name three teas." [--model SPEC] [--base-url URL] [--schema FILE.json] [--max-tokens N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from longform.errors import UserError
from longform.llm import GenParams, load_model
from longform.llm_args import add_model_args, llm_config_from_args


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chat", help="one completion from a model", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("prompt", help="the user message ('-' reads standard input)")
    p.add_argument("--system", default=None, help="system message")
    p.add_argument("--schema", default=None, help="JSON Schema file: reply is validated JSON")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--call-log", default=None, help="append the call to this JSONL file")
    add_model_args(p)
    p.set_defaults(run=run)


def _load_schema(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read --schema {path}: {exc.strerror}; pass an existing JSON file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--schema {path} is not JSON (line {exc.lineno}: {exc.msg}); fix the file") from None


def run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise UserError("the prompt is empty; pass some text")
    if args.max_tokens <= 0:
        raise UserError(f"--max-tokens must be positive, got {args.max_tokens}")
    schema = _load_schema(args.schema) if args.schema else None
    if schema is not None:
        from longform.llm.structured import check_schema

        check_schema(schema)
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": prompt}
    ]
    params = GenParams(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed, json_schema=schema)
    return asyncio.run(_chat(llm_config_from_args(args, args.call_log), messages, params))


async def _chat(config, messages, params) -> int:  # type: ignore[no-untyped-def]
    model = load_model(config)
    try:
        c = await model.complete(messages, params, tag="chat")
    finally:
        await model.aclose()
    print(json.dumps(c.parsed, ensure_ascii=False, indent=2) if params.json_schema else c.text)
    source = "cache" if c.cached else f"{c.latency_s:.2f}s, {c.attempts} attempt(s)"
    print(f"[{model.backend.model_id}: {c.usage.prompt_tokens} prompt + {c.usage.completion_tokens} completion tokens; {source}]",
          file=sys.stderr)
    return 0
