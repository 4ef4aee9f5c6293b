"""A run killed at ANY step boundary resumes to the same manuscript as an uninterrupted run.

A kill -9 leaves on disk exactly what the checkpointer had committed. A recording checkpointer
copies the SQLite file after every commit (a node's writes, then the step's checkpoint); each copy
is what a kill at that instant leaves behind. Every copy is resumed and must give the uninterrupted
run's manuscript. Control flow only: the model is the scripted fake, deterministic in its prompt.
"""

import asyncio
import contextlib
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from longform.pipelines import agentwrite, direct, graph_support
from longform.pipelines.agentwrite import AgentWriteSettings

from tests.fakes import ScriptedFakeBackend, fake_model, plan_json, prose

INSTRUCTION = "Write about the history of tea."


def deterministic_reply(messages, params):
    """Same prompt, same reply: a resumed run asks the same questions, so it must get the same text."""
    if params.json_schema is not None:
        return plan_json(["Origins", "Trade", "Rituals"], 120)
    digest = int(hashlib.sha256(repr(messages).encode()).hexdigest()[:6], 16)
    return prose(90, start=digest)


class RecordingSaver(AsyncSqliteSaver):
    """Copies the database after each commit: the states a kill -9 can leave."""

    db_path: Path
    snapshot_dir: Path
    snapshots: list[Path]

    def _snapshot(self, kind: str) -> None:
        dest = self.snapshot_dir / f"{len(self.snapshots):03d}-{kind}.sqlite"
        with contextlib.closing(sqlite3.connect(self.db_path)) as src, contextlib.closing(sqlite3.connect(dest)) as dst:
            src.backup(dst)
        self.snapshots.append(dest)

    async def aput(self, *args, **kwargs):
        result = await super().aput(*args, **kwargs)
        self._snapshot("checkpoint")
        return result

    async def aput_writes(self, *args, **kwargs):
        result = await super().aput_writes(*args, **kwargs)
        self._snapshot("writes")
        return result


def record_run(pipeline, tmp_path, monkeypatch, **kw):
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    db = tmp_path / "ck.sqlite"
    RecordingSaver.db_path, RecordingSaver.snapshot_dir, RecordingSaver.snapshots = db, snaps, []

    @contextlib.asynccontextmanager
    async def recording_checkpointer(path):
        async with RecordingSaver.from_conn_string(str(path)) as saver:
            yield saver

    with monkeypatch.context() as m:
        m.setattr(graph_support, "open_checkpointer", recording_checkpointer)
        model = fake_model(ScriptedFakeBackend(default=deterministic_reply))
        result = asyncio.run(pipeline.run(model, INSTRUCTION, kw.pop("target"), checkpoint_path=db, thread_id="t",
                                          **kw))
    return result, list(RecordingSaver.snapshots)


def pending_channels(snapshot: Path) -> set[str]:
    """Channels written after the latest checkpoint (writes not yet folded into a checkpoint)."""
    with contextlib.closing(sqlite3.connect(snapshot)) as db:
        (latest,) = db.execute("SELECT MAX(checkpoint_id) FROM checkpoints").fetchone()
        return {c for (c,) in db.execute("SELECT channel FROM writes WHERE checkpoint_id = ?", (latest,))}


def resume_from(pipeline, snapshot: Path, tmp_path: Path, **kw):
    db = tmp_path / f"resume-{snapshot.stem}.sqlite"
    shutil.copy(snapshot, db)
    backend = ScriptedFakeBackend(default=deterministic_reply)
    result = asyncio.run(pipeline.run(fake_model(backend), INSTRUCTION, kw.pop("target"), checkpoint_path=db,
                                      thread_id="t", resume=True, **kw))
    return result, backend


@pytest.mark.parametrize("name,pipeline,kw", [
    ("agentwrite", agentwrite, {"target": 330, "settings": AgentWriteSettings(section_words=110)}),
    ("direct", direct, {"target": 80}),
])
def test_kill_at_every_step_boundary_resumes_to_the_same_manuscript(tmp_path, monkeypatch, name, pipeline, kw):
    reference, snapshots = record_run(pipeline, tmp_path, monkeypatch, **dict(kw))
    assert reference.words > 0 and reference.text
    kinds = {p.stem.split("-")[1] for p in snapshots}
    assert kinds == {"writes", "checkpoint"} and len(snapshots) >= (12 if name == "agentwrite" else 3)
    for snap in snapshots:
        result, _backend = resume_from(pipeline, snap, tmp_path, **dict(kw))
        assert result.text == reference.text, f"resume from {snap.name} gave a different manuscript"
        assert result.words == reference.words
    # A state with pending writes (the node's writes saved, its checkpoint not yet) must not be taken
    # for a finished run: the last "writes" snapshot before the final checkpoint is such a state.
    last_writes = [p for p in snapshots if p.stem.endswith("writes")][-1]
    result, _ = resume_from(pipeline, last_writes, tmp_path, **dict(kw))
    assert result.text == reference.text and result.words > 0


def test_resume_after_pending_writes_asks_for_no_finished_call(tmp_path, monkeypatch):
    """The call whose writes were saved is not requested again: its output is taken from the writes."""
    kw = {"target": 330, "settings": AgentWriteSettings(section_words=110)}
    _, snapshots = record_run(agentwrite, tmp_path, monkeypatch, **dict(kw))
    plan_writes = next(p for p in snapshots if p.stem.endswith("writes") and "plan" in pending_channels(p))
    _, backend = resume_from(agentwrite, plan_writes, tmp_path, **dict(kw))
    assert all(params.json_schema is None for _, params in backend.requests), "the plan was requested again"


def test_a_checkpoint_from_other_settings_is_not_resumed(tmp_path, capsys):
    """A checkpoint whose state other settings (or another state version) wrote is left alone: the
    run starts afresh and says so, instead of reading fields its code does not know (that crashed a
    Self-Lengthen eval sample resumed across versions)."""
    db = tmp_path / "ck.sqlite"
    old = AgentWriteSettings(section_words=110)
    first = asyncio.run(agentwrite.run(fake_model(ScriptedFakeBackend(default=deterministic_reply)), INSTRUCTION, 330,
                                       checkpoint_path=db, thread_id="t", settings=old))
    assert first.words > 0
    # Same settings: the finished run is returned as is, with no call.
    same = ScriptedFakeBackend([])
    again = asyncio.run(agentwrite.run(fake_model(same), INSTRUCTION, 330, checkpoint_path=db, thread_id="t",
                                       resume=True, settings=old))
    assert again.resumed and same.requests == [] and again.text == first.text
    # Other settings: not resumed; a fresh run makes its calls, and the note names the file.
    other = ScriptedFakeBackend(default=deterministic_reply)
    fresh = asyncio.run(agentwrite.run(fake_model(other), INSTRUCTION, 330, checkpoint_path=db, thread_id="t",
                                       resume=True, settings=AgentWriteSettings(section_words=165)))
    assert not fresh.resumed and other.requests
    assert "starts afresh" in capsys.readouterr().err


def test_fingerprint_is_stable_and_tells_settings_apart():
    a = graph_support.fingerprint(2, AgentWriteSettings(section_words=110))
    assert a == graph_support.fingerprint(2, AgentWriteSettings(section_words=110))
    assert a != graph_support.fingerprint(2, AgentWriteSettings(section_words=111))
    assert a != graph_support.fingerprint(3, AgentWriteSettings(section_words=110))
    # An object that is not data counts by its type, never by its address.
    assert graph_support.fingerprint(2, {"m": object()}) == graph_support.fingerprint(2, {"m": object()})
