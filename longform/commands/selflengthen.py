"""`longform selflengthen`: Self-Lengthen's iterative training loop.

Usage:
    longform selflengthen iterate --config configs/selflengthen/cpu-smoke.yaml [--set key=value ...]
    longform selflengthen keys          (every config key with its default and meaning)

Each iteration: (1) self-instruct new instructions from the seeds and keep those that call for long
output, (2) the current generator writes first responses, (3) the current extender lengthens them,
(4) filters keep the good extensions, (5) SFT (LoRA) of the generator (instruction -> extended text)
and of the extender (expand prompt -> extended text), (6) the next iteration uses the new
checkpoints. Records per iteration and a summary table go to OUT_DIR/NAME/. Rerun the same command
after a crash or kill: finished steps are not redone.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("selflengthen", help="Self-Lengthen: iterate generator/extender training",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="selflengthen_command", metavar="ACTION", parser_class=type(p))
    it = sub.add_parser("iterate", help="run (or resume) the iterations of a config", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    it.add_argument("--config", required=True, help="YAML config (configs/selflengthen/cpu-smoke.yaml or gpu.yaml)")
    it.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override one config key (dotted, repeatable), e.g. --set iterations=3")
    it.set_defaults(run=run_iterate)
    k = sub.add_parser("keys", help="print every config key with its default and help")
    k.set_defaults(run=run_keys)


def run_iterate(args: argparse.Namespace) -> int:
    from longform.selflengthen.config import load_config
    from longform.selflengthen.loop import run_loop
    from longform.train.config import parse_set

    cfg = load_config(args.config, parse_set(args.sets))
    records = run_loop(cfg)
    print(str(cfg.run_dir / "summary.md"))
    last = records[-1]
    print(f"{len(records)} iteration(s) in {cfg.run_dir}: mean first-response words by iteration "
          + ", ".join(str(r["first_response_words"]["words_mean"]) for r in records)
          + f"; last generator {last['models']['generator']}", file=sys.stderr)
    return 0


def run_keys(args: argparse.Namespace) -> int:
    from longform.selflengthen.config import describe_keys

    print(describe_keys())
    return 0
