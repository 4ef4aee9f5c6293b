"""What every console script shares: one-line errors with exit codes, never a traceback for user mistakes."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Callable, NoReturn

from longform.errors import LongformError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line and exit code 2 (argparse prints usage too)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def guarded(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a CLI entry point: LongformError -> `error: ...` and its exit code; Ctrl-C -> exit 130."""

    @functools.wraps(main)
    def wrapper(*args: object, **kwargs: object) -> int:
        try:
            return main(*args, **kwargs) or 0
        except LongformError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper
