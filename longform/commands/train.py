"""`longform train`: fine-tune a writer model with TRL (SFT, DPO, reward model, GRPO).

Usage:
    longform train sft|dpo|rm|grpo --config configs/train/X.yaml [--set key=value ...]
    longform train keys sft|dpo|rm|grpo        (every config key with its default and meaning)

The output folder (`output_dir`) gets a safetensors checkpoint with tokenizer and chat template,
training_record.json and loss.png; it loads as `--model transformers:OUTPUT_DIR`. Rerun the same
command after a crash or kill and it resumes from the newest complete checkpoint. Examples longer
than `max_length` tokens are refused (or dropped with `overlong: drop`), never cut.
"""

from __future__ import annotations

import argparse
import sys

from longform.errors import UserError

KINDS = ("sft", "dpo", "rm", "grpo")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="fine-tune a model with TRL (sft, dpo, rm, grpo)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trainer", metavar="TRAINER", help="sft, dpo, rm or grpo (or `keys` to list a trainer's config keys)")
    p.add_argument("keys_for", nargs="?", metavar="KIND", help=argparse.SUPPRESS)
    p.add_argument("--config", default=None, help="YAML config, e.g. configs/train/cpu-smoke-sft.yaml")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key (repeatable), e.g. --set max_steps=20")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.trainer == "keys":
        if args.keys_for not in KINDS:
            raise UserError(f"`longform train keys` needs a trainer: one of {', '.join(KINDS)}")
        from longform.train import config as cfgmod
        from longform.train.runner import trainer_module

        print(cfgmod.describe_keys(trainer_module(args.keys_for).Config))
        return 0
    if args.trainer not in KINDS:
        raise UserError(f"unknown trainer {args.trainer!r}; use one of {', '.join(KINDS)} (or `keys`)")
    if args.keys_for is not None:
        raise UserError(f"unexpected argument {args.keys_for!r}; pass the config with --config FILE")
    if not args.config:
        raise UserError(f"`longform train {args.trainer}` needs --config FILE (e.g. configs/train/cpu-smoke-{args.trainer}.yaml)")
    from longform.train.config import parse_set
    from longform.train.runner import run_training

    # SIGTERM (preemption) interrupts like Ctrl-C: cli_support.guarded routes it for every command
    try:
        out = run_training(args.trainer, args.config, parse_set(args.sets))
    except KeyboardInterrupt:
        sets = "".join(f" --set {s}" for s in args.sets)
        print(f"interrupted; checkpoints are kept. Resume with: longform train {args.trainer} --config {args.config}{sets}",
              file=sys.stderr)
        return 130
    print(out)
    return 0
