"""`longform`: the project's command line.

Usage:
    longform chat PROMPT [--model SPEC] [--base-url URL] [--schema FILE]
    longform write ...            (same as the `writer` command)
    longform score --instruction TEXT|@FILE --response FILE|- [--words N | --range A-B] [--judge SPEC] [--rm PATH]
    longform selflengthen iterate --config configs/selflengthen/cpu-smoke.yaml   (Self-Lengthen training loop)
"""

from __future__ import annotations

import argparse
import sys

from longform import __version__
from longform.cli_support import ArgumentParser, guarded
from longform.commands import chat, dataset, score
from longform.commands import eval as eval_command
from longform.commands import selflengthen as selflengthen_command
from longform.commands import train as train_command


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="longform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"longform {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    chat.add_parser(sub)
    dataset.add_parser(sub)
    score.add_parser(sub)
    eval_command.add_parser(sub)
    train_command.add_parser(sub)
    selflengthen_command.add_parser(sub)
    return parser


@guarded
def main(argv: list[str] | None = None) -> int:
    console_entry = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["write"]:
        from longform.writer_cli import main as writer_main

        return writer_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.console_entry = console_entry  # a long command may exit at once on Ctrl-C (not when called from Python)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
