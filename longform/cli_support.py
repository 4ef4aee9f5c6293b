"""What every console script shares: one-line errors with exit codes, never a traceback for user mistakes."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from longform.errors import LongformError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line and exit code 2 (argparse prints usage too)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _sigterm_as_sigint(signum: int, frame: Any) -> None:
    """Run what SIGINT would run now (asyncio's handler cancels the main task; Python's raises
    KeyboardInterrupt). A background job of a non-interactive shell starts with SIGINT ignored:
    then raise KeyboardInterrupt ourselves, so SIGTERM still saves the work."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


def sigterm_like_ctrl_c() -> None:
    """SIGTERM (what SLURM and Kubernetes send on preemption, and `kill`'s default) takes the Ctrl-C
    path: finished work is saved, the run is left resumable and the command says so. Its default
    action would end the process at once and lose what is buffered."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_as_sigint)


def guarded(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a CLI entry point: LongformError -> `error: ...` and its exit code; Ctrl-C or SIGTERM ->
    exit 130 after the command saved its finished work."""

    @functools.wraps(main)
    def wrapper(*args: object, **kwargs: object) -> int:
        sigterm_like_ctrl_c()
        try:
            return main(*args, **kwargs) or 0
        except LongformError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except BrokenPipeError:  # the reader went away (`longform ... | head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapper
