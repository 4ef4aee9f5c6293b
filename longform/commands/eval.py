"""`longform eval`: every writing method and model on a published long-output benchmark, side by side.

Usage:
    longform eval ruler --lang en --lengths 1000,2000,5000,10000 --out out/eval/ruler-en
    longform eval longen --limit 20 --method agentwrite --out out/eval/longen-20
    longform eval longbench-write --method direct,agentwrite --model embedded,openai:gpt-4o-mini \\
        --judge openai:gpt-4o --out out/eval/lbw
    longform eval constraints --method cogwriter,agentwrite,direct --out out/eval/units

Benchmarks: longbench-write (S_l, and S_q with --judge), ruler (LongWrite-Ruler, S_l), longen (LonGen
interval score by constraint type), constraints (unit prompts: units present, constraints satisfied).

Every method and model gets the same prompts. The run is resumable: run the same command again
after a crash, Ctrl-C or kill and finished samples are not generated again (a journal in DIR, a
checkpoint per sample, the request cache); a sample that fails for good is recorded with its
reason and the run goes on (--retry-failed runs those again). More methods or models, or a judge,
may be added to an existing eval folder by running it again with them.

DIR gets report.md (tables by method, length bucket, language, constraint type), scatter.png
(required vs produced length), results.jsonl (every sample's text, scores and token usage).
Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from longform.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from longform.eval.benchmarks import names as bench_names
    from longform.llm_args import add_model_args
    from longform.pipelines import registry

    p = subparsers.add_parser("eval", help="score methods and models on long-output benchmarks", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmark", help=f"one of: {', '.join(bench_names())}")
    p.add_argument("--method", default=",".join(registry.names()),
                   help=f"comma-separated writing methods (default: all registered: {','.join(registry.names())})")
    add_model_args(p)  # --model takes a comma-separated list here
    p.add_argument("--judge", default=None, metavar="SPEC", help="model spec of the quality judge (S_q); "
                   "without it S_q is skipped")
    p.add_argument("--judge-base-url", default=None, metavar="URL", help="OpenAI-compatible URL for the judge")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="at most N prompts, spread over lengths, languages and constraint types")
    p.add_argument("--lengths", default=None, metavar="L1,L2", help="only prompts asking for these lengths (words)")
    p.add_argument("--lang", default=None, choices=("en", "zh"), help="only prompts in this language")
    p.add_argument("--data", default=None, metavar="FILE", help="the benchmark's JSONL file (default: shared copy)")
    p.add_argument("--out", required=True, metavar="DIR", help="eval folder (new, empty, or this same eval)")
    p.add_argument("--seed", type=int, default=0, help="base seed of every generation call (default 0)")
    p.add_argument("--parallel", type=int, default=1, metavar="N",
                   help="samples generated at once (for remote endpoints; the embedded model runs one at a time)")
    p.add_argument("--section-words", type=int, default=None, help="agentwrite: words per section")
    p.add_argument("--given-requirements", action="store_true",
                   help="constraints: hand cogwriter the benchmark's requirements as JSON (default: the prompt only)")
    p.add_argument("--retry-failed", action="store_true", help="generate again the samples that failed for good")
    p.add_argument("--report-only", action="store_true", help="rewrite the report from what DIR holds; generate nothing")
    p.add_argument("--no-progress", action="store_true", help="plain lines instead of the live progress bar")
    p.set_defaults(run=run_eval)


def _split(value: str | None, what: str) -> list[str]:
    items = [x.strip() for x in (value or "").split(",")]
    if any(not x for x in items):
        raise UserError(f"{what} {value!r} has an empty item; give a comma-separated list such as a,b")
    return items


def _lengths(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(x.replace("_", "")) for x in _split(value, "--lengths")]
    except ValueError:
        raise UserError(f"--lengths must be comma-separated word counts such as 1000,2000, got {value!r}") from None


def config_from_args(args: argparse.Namespace):
    from longform.eval.config import EvalConfig

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    return EvalConfig(
        benchmark=args.benchmark, out=Path(args.out), methods=_split(args.method, "--method"),
        models=_split(args.model, "--model"), judge=args.judge, judge_base_url=args.judge_base_url, lang=args.lang,
        lengths=_lengths(args.lengths), limit=args.limit, data=args.data, seed=args.seed, parallel=args.parallel,
        retry_failed=args.retry_failed, section_words=args.section_words, given_requirements=args.given_requirements,
        base_url=args.base_url, n_ctx=args.n_ctx,
        threads=args.threads, concurrency=args.concurrency, timeout_s=args.timeout, retries=args.retries,
        cache=args.cache, no_cache=args.no_cache,
    )


def resume_command(argv: list[str]) -> str:
    return "longform " + " ".join(shlex.quote(a) for a in argv)


def run_eval(args: argparse.Namespace) -> int:
    from longform.eval import report, runner
    from longform.eval.display import EvalDisplay

    cfg = config_from_args(args)
    if args.report_only:
        mod, selection = runner.validate(cfg)
        from longform.eval import journal

        if not (cfg.out / journal.MANIFEST).exists():
            raise UserError(f"--out {cfg.out} holds no eval to report on; run the eval first")
        manifest = journal.open_manifest(cfg.out, cfg.identity(), [s.id for s in selection.samples])
        rows = report.write_report(cfg.out, manifest, selection.samples, journal.Journal(cfg.out / journal.GENERATIONS),
                                   journal.Journal(cfg.out / journal.JUDGEMENTS), mod, cfg.judge)
        print(report.summary_line(rows, cfg.out))
        return 0

    st = runner.open_eval(cfg)
    console_entry = getattr(args, "console_entry", False)
    status = "failed"
    try:
        with EvalDisplay(plain=args.no_progress) as display:
            asyncio.run(runner.run(st, display))
        status = "done"
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
    finally:
        runner.finish_session(st, status)
        rows = _report(st)
    if status == "interrupted":
        argv = [a for a in sys.argv[1:]] if console_entry else ["eval", cfg.benchmark, "--out", str(cfg.out), "..."]
        print(f"interrupted; finished samples are saved. Resume with: {resume_command(argv)}", file=sys.stderr)
        if console_entry:  # do not wait for the model call in flight on its worker thread
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        return 130
    print(report.summary_line(rows, cfg.out))
    return 0


def _report(st: Any):
    from longform.eval import report

    return report.write_report(st.cfg.out, st.manifest, st.selection.samples, st.gens, st.judgements, st.mod,
                               st.cfg.judge)


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SLURM and Kubernetes preemption: stop like Ctrl-C, keep what is finished
