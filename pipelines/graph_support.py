"""What every manuscript pipeline shares: the SQLite checkpointer, the recursion limit, running a
graph so that a killed run resumes, usage bookkeeping in the state, and the result type."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Protocol

from longform.llm import Completion


class Progress(Protocol):
    """Receives pipeline events (see longform.progress). Must never raise."""

    def event(self, kind: str, **data: Any) -> None: ...


class NullProgress:
    def event(self, kind: str, **data: Any) -> None:
        return None


@dataclass
class ManuscriptResult:
    """What a pipeline returns: the manuscript body and everything the run record needs."""

    method: str
    instruction: str
    target_words: int
    lang: str
    text: str
    words: int
    plan: list[dict[str, Any]] = field(default_factory=list)
    plan_meta: dict[str, Any] = field(default_factory=dict)
    sections: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False
    report: dict[str, Any] = field(default_factory=dict)  # method-specific report for run.json (cogwriter: constraints)


@contextlib.asynccontextmanager
async def open_checkpointer(path: str | Path | None) -> AsyncIterator[Any]:
    """An AsyncSqliteSaver on `path` (a file), or an in-memory saver when path is None."""
    if path is None:
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver()
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver


def empty_usage() -> dict[str, Any]:
    return {"calls": 0, "cached_calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "latency_s": 0.0}


def add_usage(usage: dict[str, Any] | None, c: Completion) -> dict[str, Any]:
    """Usage totals kept in the graph state (so they survive a resume), including cached calls."""
    u = dict(usage or empty_usage())
    u["calls"] += 1
    u["cached_calls"] += 1 if c.cached else 0
    u["prompt_tokens"] += c.usage.prompt_tokens
    u["completion_tokens"] += c.usage.completion_tokens
    u["latency_s"] = round(u["latency_s"] + c.latency_s, 3)
    return u


def call_event(progress: Progress, c: Completion, **data: Any) -> None:
    tps = c.usage.completion_tokens / c.latency_s if c.latency_s > 0 else None
    progress.event(
        "call",
        prompt_tokens=c.usage.prompt_tokens,
        completion_tokens=c.usage.completion_tokens,
        latency_s=c.latency_s,
        tokens_per_s=tps,
        cached=c.cached,
        **data,
    )


def fingerprint(state_version: int, settings: Any) -> str:
    """A short, stable digest of a pipeline's state version and settings: the checkpoint thread of a
    run is keyed by it, so a run never resumes a checkpoint whose state another version or other
    settings wrote (its state may not have the fields this code reads). Objects that are not
    dataclasses, lists, dicts or scalars count by their type only (a repr may hold an address)."""
    data = asdict(settings) if is_dataclass(settings) and not isinstance(settings, type) else settings
    blob = json.dumps([state_version, data], sort_keys=True, default=lambda o: type(o).__name__)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


async def _other_threads(saver: Any, thread_id: str) -> bool:
    """True when the checkpointer holds checkpoints of a thread other than `thread_id`."""
    async for item in saver.alist(None, limit=50):
        if item.config["configurable"].get("thread_id") != thread_id:
            return True
    return False


def graph_finished(snapshot: Any) -> bool:
    """True only when the graph reached its end. A step killed after its node's writes were saved
    but before the next checkpoint has no `next` node left to run (its task already has writes),
    yet it has a task: resuming applies those pending writes and goes on."""
    return not snapshot.next and not snapshot.tasks


async def run_graph(
    build: Callable[[Any], Any],
    initial_state: dict[str, Any],
    *,
    checkpoint_path: str | Path | None,
    thread_id: str,
    recursion_limit: int,
    resume: bool = False,
    version: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Compile the graph with a SQLite checkpointer and run it to the end.

    With resume=True and a checkpoint on `thread_id`, the run continues from its last finished
    step (input None): finished steps, and so finished sections, are not run again; writes a killed
    step had already saved (pending writes) are applied, not recomputed. Without a
    checkpoint, resume starts from `initial_state`. `version` (see `fingerprint`) is part of the
    thread: a checkpoint that other settings or another state version wrote is not resumed (the run
    starts afresh, says so on stderr, and the old checkpoint stays in the file). Checkpoints are written synchronously after
    every step (durability="sync"), so a kill -9 loses at most the step in flight.
    Returns (final state, resumed?).
    """
    if version:
        thread_id = f"{thread_id}|v{version}"
    async with open_checkpointer(checkpoint_path) as saver:
        graph = build(saver)
        config = {"configurable": {"thread_id": thread_id}, "recursion_limit": recursion_limit}
        resumed = False
        payload: dict[str, Any] | None = initial_state
        if resume:
            snapshot = await graph.aget_state(config)
            if snapshot.values:
                if graph_finished(snapshot):
                    return dict(snapshot.values), True
                payload, resumed = None, True
            elif checkpoint_path is not None and await _other_threads(saver, thread_id):
                print(f"note: the checkpoint in {checkpoint_path} was written by another version or with other "
                      "settings; this run starts afresh (the old checkpoint stays in the file)", file=sys.stderr)
        final = await graph.ainvoke(payload, config, durability="sync")
        return dict(final), resumed
