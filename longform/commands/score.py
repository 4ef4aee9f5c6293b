"""`longform score`: every reward component of one response, as one JSON object.

Usage:
    longform score --instruction "Write about 2000 words on tea." --response answer.txt
    longform score --response out/tea/manuscript.md                 (instruction from its front matter)
    longform score --instruction @prompt.txt --response - --range 1500-2500 --judge openai:gpt-4o-mini
    longform score --instruction TEXT --response FILE --words 3000 --judge embedded --rm out/rm-smoke

Prints: words; length (the interval, S_l, LonGen score, range reward); format (repetition, ending,
structure, injection parts and the format score); quality (the judge's six dimensions, S_q, or
`missing`; with --judge); rm (with --rm); the injection flag and spans; the combined reward with
the weights used (from --config, default configs/rewards/default.yaml's values). The target is
--words N (about N), --range A-B, else the length the instruction states, else a manuscript's
target_words; with none, length is left out (never guessed). Bad input: one line, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

from longform.errors import UserError

MAX_WORDS = 1_000_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("score", help="score one response: length, format, judge, reward model, combined",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instruction", default=None, metavar="TEXT|@FILE",
                   help="the instruction (or @FILE to read it); default: a manuscript's front matter")
    p.add_argument("--response", required=True, metavar="FILE|-", help="the response: a text or manuscript.md file, or - for stdin")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--words", type=int, default=None, help="target length: about N words (CJK characters count one each)")
    t.add_argument("--range", default=None, metavar="A-B", help="target interval: A to B words")
    p.add_argument("--config", default=None, metavar="YAML", help="reward config (weights, cap, penalties), e.g. configs/rewards/default.yaml")
    p.add_argument("--judge", default=None, metavar="SPEC", help="judge model spec (embedded, openai:<m>, ...): adds S_q")
    p.add_argument("--rm", default=None, metavar="PATH", help="trained reward model folder (longform train rm)")
    g = p.add_argument_group("judge model")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible server URL for the judge")
    g.add_argument("--n-ctx", type=int, default=None, help="judge context window in tokens (default 8192)")
    g.add_argument("--threads", type=int, default=None, help="embedded judge: CPU threads")
    g.add_argument("--timeout", type=float, default=600.0, help="seconds before one judge call is abandoned and retried")
    g.add_argument("--retries", type=int, default=6, help="attempts per judge call on transient faults")
    g.add_argument("--cache", default=None, help="request cache (SQLite); default ~/.cache/longform/requests.sqlite")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the request cache")
    g.add_argument("--seed", type=int, default=0, help="judge seed")
    p.set_defaults(run=run)


def _read(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{what} {p} is a folder; pass a text file (e.g. {p / 'manuscript.md'})")
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} {p} does not exist; pass an existing text file") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {p} is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {p}: {exc.strerror}") from None


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return {}, text
    import yaml

    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError:
        return {}, text
    return (meta, text[end + 5 :].lstrip("\n")) if isinstance(meta, dict) else ({}, text)


def _range(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d[\d,]*)\s*(?:-|–|to|\.\.)\s*(\d[\d,]*)\s*", text)
    if m is None:
        raise UserError(f"--range must look like A-B (e.g. 1500-2500), got {text!r}")
    lo, hi = (int(g.replace(",", "")) for g in m.groups())
    if not 0 < lo <= hi <= MAX_WORDS:
        raise UserError(f"--range {text}: need 0 < A <= B <= {MAX_WORDS:,}")
    return lo, hi


def _target(args: argparse.Namespace, instruction: str, meta: dict[str, Any]) -> Any:
    from longform.lengths import parse_length

    if args.words is not None:
        if not 0 < args.words <= MAX_WORDS:
            raise UserError(f"--words must be a positive number of words (at most {MAX_WORDS:,}), got {args.words}")
        return args.words
    if args.range is not None:
        return _range(args.range)
    if parse_length(instruction) is not None:
        return None  # the instruction's stated length
    if isinstance(meta.get("target_words"), int) and meta["target_words"] > 0:
        return meta["target_words"]
    return None


def run(args: argparse.Namespace) -> int:
    from longform.reward_models.combined import RewardConfig, load_reward_config

    cfg = load_reward_config(args.config) if args.config else RewardConfig()
    judge_spec = args.judge or cfg.judge
    rm_path = args.rm or cfg.rm
    if args.words is not None and not 0 < args.words <= MAX_WORDS:
        raise UserError(f"--words must be a positive number of words (at most {MAX_WORDS:,}), got {args.words}")
    if args.range is not None:
        _range(args.range)
    if judge_spec is not None:
        from longform.llm.spec import parse_spec

        parse_spec(judge_spec)
    if args.retries < 1:
        raise UserError(f"--retries must be at least 1, got {args.retries}")
    raw = _read(args.response, "--response")
    meta, response = _split_front_matter(raw)
    if not response.strip():
        raise UserError(f"the response in {args.response} is empty; pass a file with the text to score")
    if args.instruction is not None:
        instruction = _read(args.instruction[1:], "--instruction") if args.instruction.startswith("@") else args.instruction
    else:
        instruction = meta.get("instruction") if isinstance(meta.get("instruction"), str) else None
        if instruction is None:
            raise UserError("no instruction: pass --instruction TEXT or @FILE (a manuscript.md from `writer` carries its own)")
    instruction = instruction.strip()
    if not instruction:
        raise UserError("the instruction is empty; pass --instruction TEXT or @FILE")
    target = _target(args, instruction, meta)
    scorer = None
    if rm_path is not None:
        from longform.reward_models.quality import load_scorer

        scorer = load_scorer(rm_path)
    result = asyncio.run(_score(args, cfg, judge_spec, instruction, response, target, scorer))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


async def _score(args: argparse.Namespace, cfg: Any, judge_spec: str | None, instruction: str, response: str,
                 target: Any, scorer: Any) -> dict[str, Any]:
    from longform.reward_models.combined import score_all

    model = None
    if judge_spec is not None:
        from longform.llm import LLMConfig, RetryPolicy, load_model

        model = load_model(LLMConfig(model=judge_spec, base_url=args.base_url, n_ctx=args.n_ctx, n_threads=args.threads,
                                     timeout_s=args.timeout, cache_path=args.cache, no_cache=args.no_cache,
                                     retry=RetryPolicy(max_attempts=args.retries)))
    try:
        result = await score_all(instruction, response, target=target, cfg=cfg, judge_model=model, rm=scorer,
                                 seed=args.seed)
    finally:
        if model is not None:
            await model.aclose()
    result = {"instruction": instruction[:200] + ("…" if len(instruction) > 200 else ""), **result}
    if model is not None:
        from longform.llm.redact import redact

        result["judge_model"] = redact({"spec": judge_spec, "base_url": args.base_url})
    return result
