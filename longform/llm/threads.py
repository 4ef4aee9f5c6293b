"""CPU threads for the embedded model: how many cores this process may use, and a governor that keeps
decoding on the thread count that is fastest *now*.

llama.cpp's worker threads wait for each other at every step of a token. When another CPU-bound
process takes one of the cores, a thread that is not scheduled holds up all the others, and decoding
with every core collapses (measured on 2 cores: 37-40 tokens/s fell to 13-19 with one competing
process, while one thread kept its speed). No thread count is best both on an idle and on a busy
machine, so the governor measures: it times each decoded token, and from time to time decodes a
short stretch with another thread count; it keeps the faster one. A sudden drop (another job starts)
triggers a new comparison at once. Thread counts change on the live context between two tokens
(`llama_set_n_threads`), so a long call adapts while it runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity: taskset, cgroup cpusets, SLURM), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def candidate_threads(cores: int) -> list[int]:
    """Thread counts worth comparing, most first: all usable cores, half of them, one."""
    return sorted({max(1, cores), max(1, cores // 2), 1}, reverse=True)


class ThreadGovernor:
    """Chooses among `candidates` thread counts from per-token timings; `on_token()` is called once
    per decoded token (between two decode steps), `begin_call()` before each completion.

    Compare the counts after the first window; then exploit the fastest; every `reprobe_tokens`
    decoded tokens (doubling, up to `max_reprobe_tokens`, while the same count keeps winning) or at
    once when the current count's
    rate falls below `collapse` x its last measured rate, compare it with the other candidates
    (windows of `window_tokens`) and keep the fastest. The first `settle_tokens` after a switch are not
    timed (the thread team starts up). Windows are noisy on a shared machine, so a comparison
    interleaves two windows of each count with two of the current one, and another count takes
    over only when it is `switch_margin` faster over them.
    """

    def __init__(
        self,
        candidates: list[int],
        set_threads: Callable[[int], None],
        *,
        window_tokens: int = 12,
        settle_tokens: int = 2,
        reprobe_tokens: int = 192,
        max_reprobe_tokens: int = 768,
        collapse: float = 0.4,
        switch_margin: float = 1.1,
        start: int | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.candidates = list(dict.fromkeys(candidates)) or [1]
        self._set = set_threads
        self.window_tokens = window_tokens
        self.settle_tokens = settle_tokens
        self.base_reprobe = reprobe_tokens
        self.max_reprobe = max_reprobe_tokens
        self.collapse = collapse
        self.switch_margin = switch_margin
        self._cmp: dict[int, list[float]] = {}  # tokens and seconds of each count in the comparison under way
        self._clock = clock
        self.current = start if start in self.candidates else self.candidates[0]
        self.rates: dict[int, float] = {}  # tokens/s, last full window of each count
        self.reprobe = 0  # the first comparison comes right after the first window
        self.since_probe = 0
        self.switches = 0
        self._probe: list[int] = []  # counts still to try in the comparison under way
        self._probe_from: int | None = None
        self._last: float | None = None
        self._skip = 0
        self._win_n = 0
        self._win_t = 0.0
        self._probe_n = 0  # tokens and seconds since the last switch, settling included
        self._probe_t = 0.0
        self._set(self.current)

    def begin_call(self) -> None:
        """A new completion: the first token's time includes the prompt, so timing restarts."""
        self._last = None

    def on_token(self) -> None:
        now = self._clock()
        last, self._last = self._last, now
        if last is None:
            return
        self._probe_n += 1
        self._probe_t += now - last
        if self._probe_from is not None and self.current != self._probe_from and self._probe_lost():
            # The count under trial has already spent the time the current one needs for a whole
            # window: it lost; stop paying for it (on a busy machine one token can take seconds).
            self._probe = [c for c in self._probe if c != self.current]
            self._window_done(self._probe_n, self._probe_t)
            return
        if self._skip > 0:
            self._skip -= 1
            return
        self._win_n += 1
        self._win_t += now - last
        self.since_probe += 1
        if self._win_n >= self.window_tokens:
            n, t = self._win_n, self._win_t
            self._win_n, self._win_t = 0, 0.0
            self._window_done(n, t)

    def _probe_lost(self) -> bool:
        n, t = self._cmp.get(self._probe_from, (0, 0.0))  # type: ignore[arg-type]
        if n <= 0 or t <= 0:
            return False
        return self._probe_t > (self.settle_tokens + self.window_tokens) * t / n

    def _window_done(self, n: int, t: float) -> None:
        rate = n / t if t > 0 else float("inf")
        previous = self.rates.get(self.current)
        self.rates[self.current] = rate
        if self._probe_from is not None:
            acc = self._cmp.setdefault(self.current, [0, 0.0])
            acc[0] += n
            acc[1] += t
            if self._probe:
                self._switch(self._probe.pop(0))
                return
            origin, self._probe_from = self._probe_from, None
            measured = {c: (a[0] / a[1] if a[1] > 0 else float("inf")) for c, a in self._cmp.items()}
            self.rates.update(measured)
            best = max(measured, key=lambda c: measured[c])
            if best != origin and measured[best] < self.switch_margin * measured[origin]:
                best = origin
            self.since_probe = 0
            self.reprobe = (min(self.max_reprobe, max(self.base_reprobe, self.reprobe * 2)) if best == origin
                            else self.base_reprobe)
            if best != self.current:
                self._switch(best)
            return
        if len(self.candidates) == 1:
            return
        collapsed = previous is not None and rate < self.collapse * previous
        if collapsed or self.since_probe >= self.reprobe:
            if collapsed:
                self.reprobe = self.base_reprobe
            # Interleave: origin (this window), each other count, origin again, each other count
            # again; bursts of load then hit both sides of the comparison alike.
            others = [c for c in self.candidates if c != self.current]
            self._probe_from = self.current
            self._cmp = {self.current: [n, t]}
            self._probe = [*others, self.current, *others]
            self._switch(self._probe.pop(0))

    def _switch(self, n: int) -> None:
        if n != self.current:
            self.current = n
            self.switches += 1
            self._set(n)
        self._skip = self.settle_tokens
        self._win_n, self._win_t = 0, 0.0
        self._probe_n, self._probe_t = 0, 0.0
