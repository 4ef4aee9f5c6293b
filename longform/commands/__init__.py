"""Subcommands of the `longform` CLI, one module each: `add_parser(subparsers)` and `run(args) -> int`."""
