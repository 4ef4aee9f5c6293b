"""What the model calls in flight are doing, for progress displays: how long the longest-waiting
call has gone without a byte, and the retries the layer makes. Backends that stream report each
chunk through `touch_current_call()`; a display polls `waiting_s()` and listens for retries."""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]

_current: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("longform_call_touch", default=None)


class CallActivity:
    def __init__(self) -> None:
        self._ids = itertools.count()
        self._last_data: dict[int, float] = {}
        self._lock = threading.Lock()
        self.listeners: list[Listener] = []

    def start(self) -> int:
        cid = next(self._ids)
        with self._lock:
            self._last_data[cid] = time.monotonic()
        _current.set(lambda: self._touch(cid))
        return cid

    def _touch(self, cid: int) -> None:
        with self._lock:
            if cid in self._last_data:
                self._last_data[cid] = time.monotonic()

    def end(self, cid: int) -> None:
        with self._lock:
            self._last_data.pop(cid, None)
        _current.set(None)

    def waiting_s(self) -> float:
        """Seconds the longest-silent call in flight has gone without data (0 when none is in flight)."""
        with self._lock:
            if not self._last_data:
                return 0.0
            return time.monotonic() - min(self._last_data.values())

    def notify(self, kind: str, **data: Any) -> None:
        for listener in list(self.listeners):
            try:
                listener(kind, data)
            except Exception:  # noqa: BLE001, S110 - a display must never break a call
                pass


def touch_current_call() -> None:
    """A streaming backend received data for the call running in this task."""
    touch = _current.get()
    if touch is not None:
        touch()
