"""The eval's progress display on stderr: samples done/total, the current model, method and sample,
words of the sample being written, ETA. A live rich bar on a terminal; one plain line per finished
sample otherwise (logs, CI, nohup)."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typing_extensions import Self

from longform.progress import _fmt_eta


class EvalDisplay:
    def __init__(self, console: Console | None = None, plain: bool = False):
        self.console = console or Console(file=sys.stderr, soft_wrap=True)
        self.live = self.console.is_terminal and not plain
        self.total = 0
        self.done = 0
        self.remaining_words = 0  # target words of the samples still to generate
        self.words_this_session = 0
        self.started = time.monotonic()
        self.current = "-"
        self.sample_words = 0
        self.sample_target = 0
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> Self:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.fields[current]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("samples · {task.fields[words]}"),
                TextColumn("[cyan]ETA {task.fields[eta]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("eval", total=max(1, self.total), completed=self.done,
                                                 current=self.current, words="", eta="?")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    # -- figures ---------------------------------------------------------------------------------
    def eta_s(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.words_this_session <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.remaining_words - self.sample_words) / (self.words_this_session / elapsed))

    # -- events ----------------------------------------------------------------------------------
    def start(self, total: int, done: int, remaining_words: int) -> None:
        self.total, self.done, self.remaining_words = total, done, remaining_words
        self.started = time.monotonic()
        if self._progress is not None:
            self._progress.update(self._task, total=max(1, total), completed=done)
        self.line(f"eval: {total} sample run(s), {done} already done, {total - done} to generate")

    def sample_start(self, model: str, method: str, sample_id: str, target: int) -> None:
        self.current = f"{method} · {sample_id}" + (f" · {model}" if model != "embedded" else "")
        self.sample_words, self.sample_target = 0, target
        self._refresh()

    def event(self, kind: str, **data: Any) -> None:
        """A pipeline's progress event (the pipelines' Progress protocol); must never raise."""
        try:
            if "words_so_far" in data:
                self.sample_words = int(data["words_so_far"])
                self._refresh()
        except Exception:  # noqa: BLE001, S110 - a display must never break a run
            pass

    def sample_done(self, record: dict[str, Any], target: int, fresh_words: int) -> None:
        self.done += 1
        self.remaining_words = max(0, self.remaining_words - target)
        self.words_this_session += fresh_words
        self.sample_words = 0
        if record.get("status") == "done":
            sc = record.get("scores", {})
            extra = f", LonGen {sc['longen']:.2f}" if "longen" in sc else ""
            msg = (f"{record['method']} {record['sample_id']}: {sc.get('words', 0):,} words "
                   f"(target {target:,}), S_l {sc.get('s_l', 0):.1f}{extra}, {record.get('elapsed_s', 0):.0f}s")
        else:
            msg = f"{record['method']} {record['sample_id']}: FAILED ({record.get('error')})"
        self.line(f"[{self.done}/{self.total}] {msg}; ETA {_fmt_eta(self.eta_s())}")
        self._refresh()

    def phase(self, text: str) -> None:
        self.current = text
        self.line(text)
        self._refresh()

    def line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False)

    def _refresh(self) -> None:
        if self._progress is None:
            return
        words = f"{self.sample_words:,}/{self.sample_target:,} words" if self.sample_target else ""
        self._progress.update(self._task, completed=self.done, current=self.current, words=words,
                              eta=_fmt_eta(self.eta_s()))
