"""Progress display for a manuscript run, on stderr: section i/n, words so far vs target, tokens/s,
ETA. A live rich bar on a terminal; one plain line per finished section otherwise (logs, CI).

The ETA divides the words still missing by the *recent* writing rate: words gained over the last
`RATE_WINDOW_S` seconds of events. Model loading and planning come before the first word and are
not writing; an average since the start counted them and overstated a long run's ETA (7h13m shown
for a run that took 30 minutes).
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

RATE_WINDOW_S = 300.0  # the ETA's rate: words gained over about the last five minutes of events


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class _EtaColumn(ProgressColumn):
    """Recomputed at every screen refresh, so it counts down between events."""

    def __init__(self, eta: Callable[[], float | None]):
        super().__init__()
        self._eta = eta

    def render(self, task: Task) -> Text:
        return Text(f"ETA {_fmt_eta(self._eta())}", style="cyan")


WAIT_SHOWN_AFTER_S = 10.0  # a remote call silent this long shows its wait on the live display


class _WaitColumn(ProgressColumn):
    """'no reply for 42s' while a streaming call has received nothing for a while (rendered live)."""

    def __init__(self, owner: RunProgress):
        super().__init__()
        self.owner = owner

    def render(self, task: Task) -> Text:
        waited = self.owner.waiting_s()
        return Text(f"no reply for {_fmt_eta(waited)}" if waited >= WAIT_SHOWN_AFTER_S else "", style="yellow")


class RunProgress:
    """Receives pipeline events (plan_start, plan_done, section_start, call, section_done)."""

    def __init__(self, target_words: int, console: Console | None = None, start_words: int = 0,
                 clock: Callable[[], float] = time.monotonic, window_s: float = RATE_WINDOW_S):
        self.console = console or Console(file=sys.stderr, soft_wrap=True)
        self.target = max(1, target_words)
        self.words = start_words
        self.section = "-"
        self.tokens = 0
        self.gen_seconds = 0.0
        self._clock = clock
        self.window_s = window_s
        self.started = clock()
        self.words_at_start = start_words
        self._samples: deque[tuple[float, int]] = deque()  # (time, words): writing progress, oldest first
        self.live = self.console.is_terminal
        self._baseline_set = False
        self._progress: Progress | None = None
        self._task: Any = None
        self._activity: Any = None

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]section {task.fields[section]}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} words"),
                TextColumn("{task.fields[tps]} tok/s"),
                _EtaColumn(self.eta_s),
                TimeElapsedColumn(),
                _WaitColumn(self),
                console=self.console,
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("writing", total=self.target, completed=self.words,
                                                 section=self.section, tps="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    def watch(self, activity: Any, show_wait: bool = True) -> RunProgress:
        """Follow a ChatModel's CallActivity: retries print a line; with show_wait (streaming
        backends, where silence means a stalled server), the live bar shows how long a call has
        gone without data."""
        if show_wait:
            self._activity = activity
        activity.listeners.append(self._on_activity)
        return self

    def waiting_s(self) -> float:
        return self._activity.waiting_s() if self._activity is not None else 0.0

    def _on_activity(self, kind: str, d: dict[str, Any]) -> None:
        if kind == "retry":
            self._line(f"call {d.get('tag') or '-'}: attempt {d.get('attempt')} failed ({d.get('cause')}); "
                       f"retrying in {float(d.get('wait_s') or 0):.1f}s")

    # -- figures -------------------------------------------------------------------------------
    def tokens_per_s(self) -> float | None:
        return self.tokens / self.gen_seconds if self.gen_seconds > 0 else None

    def words_per_s(self) -> float | None:
        """Words gained per second over the recent window (None before any writing was timed)."""
        if len(self._samples) < 2:
            return None
        t_last, w_last = self._samples[-1]
        t_old, w_old = self._samples[0]
        for t, w in self._samples:
            if t >= t_last - self.window_s:
                break
            t_old, w_old = t, w
        if t_last <= t_old or w_last <= w_old:
            return None
        return (w_last - w_old) / (t_last - t_old)

    def eta_s(self) -> float | None:
        if self.words >= self.target:
            return 0.0
        rate = self.words_per_s()
        if rate is None:
            return None
        since_last = self._clock() - self._samples[-1][0]
        return max(0.0, (self.target - self.words) / rate - since_last)

    def _sample(self, t: float, words: int) -> None:
        self._samples.append((t, words))
        # Keep one sample older than the window: the rate spans the whole window.
        while len(self._samples) > 2 and self._samples[1][0] < t - self.window_s:
            self._samples.popleft()

    # -- events --------------------------------------------------------------------------------
    def event(self, kind: str, **d: Any) -> None:
        try:
            self._event(kind, d)
        except Exception:  # noqa: BLE001, S110 - a display must never break a run
            pass

    def _event(self, kind: str, d: dict[str, Any]) -> None:
        if kind == "plan_start":
            self._line(f"planning {d.get('sections')} sections…")
        elif kind == "plan_done":
            note = " (fallback outline: the model's plan did not validate)" if d.get("fallback") else ""
            self._line(f"plan: {d.get('sections')} sections{note}")
            if not self._samples:
                self._sample(self._clock(), self.words)  # writing starts now
        elif kind == "section_start":
            self.section = f"{d['index'] + 1}/{d['n_sections']}"
        elif kind == "call":
            cached = bool(d.get("cached"))
            latency = 0.0 if cached else float(d.get("latency_s") or 0.0)
            self._set_baseline(d, int(d.get("section_words") or 0), latency)
            if not cached:
                self.tokens += int(d.get("completion_tokens") or 0)
                self.gen_seconds += latency
            self.words = int(d.get("words_so_far", self.words))
            if "words_so_far" in d:
                self._sample(self._clock(), self.words)
        elif kind == "section_done":
            self._set_baseline(d, int(d.get("words") or 0))
            self.words = int(d.get("words_so_far", self.words))
            if "words_so_far" in d:
                self._sample(self._clock(), self.words)
            if not self.live:
                tps = self.tokens_per_s()
                self._line(
                    f"section {d['index'] + 1}/{d['n_sections']} \"{d.get('title', '')}\": {d.get('words')} words "
                    f"(budget {d.get('budget')}); {self.words:,}/{self.target:,} words; "
                    f"{'-' if tps is None else f'{tps:.0f}'} tok/s; ETA {_fmt_eta(self.eta_s())}"
                )
        self._refresh()

    def _set_baseline(self, d: dict[str, Any], this_step_words: int, latency_s: float = 0.0) -> None:
        """On a resumed run the first event already carries the earlier sessions' words: the ETA
        rate must count only what this session writes, from when its first call started."""
        if self._baseline_set or "words_so_far" not in d:
            return
        self._baseline_set = True
        self.words_at_start = max(0, int(d["words_so_far"]) - this_step_words)
        if not self._samples:
            now = self._clock()
            self._sample(max(self.started, now - latency_s), self.words_at_start)

    def _refresh(self) -> None:
        if self._progress is None:
            return
        tps = self.tokens_per_s()
        self._progress.update(
            self._task, completed=min(self.words, self.target), section=self.section,
            tps="-" if tps is None else f"{tps:.0f}",
        )

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text)
        else:
            self.console.print(text, markup=False, highlight=False)
