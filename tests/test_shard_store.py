import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from longform.shard_store import ShardStore, atomic_write_text, clean_stale, read_part, replace_dir


def rows(*ids, status="kept"):
    return [{"id": i, "status": status, "reason": "", "payload": "x" * 10} for i in ids]


def test_write_reopen_and_read(tmp_path):
    s = ShardStore(tmp_path / "w").open()
    p0 = s.write_part(rows("a", "b"))
    p1 = s.write_part(rows("c"))
    assert s.write_part([]) is None
    assert (p0.name, p1.name) == ("part-00000.parquet", "part-00001.parquet")
    again = ShardStore(tmp_path / "w").open()
    assert again.done_ids() == {"a", "b", "c"}
    assert sorted(again.rows()) == ["a", "b", "c"]
    assert again.write_part(rows("d")).name == "part-00002.parquet"
    assert not list((tmp_path / "w" / "parts").glob("*.tmp"))


def test_leftover_tmp_is_discarded(tmp_path):
    s = ShardStore(tmp_path).open()
    s.write_part(rows("a"))
    (s.parts_dir / "part-00001.parquet.tmp").write_bytes(b"torn")
    again = ShardStore(tmp_path).open()
    assert again.recovered["tmp_removed"] == 1 and again.done_ids() == {"a"}
    assert not list(again.parts_dir.glob("*.tmp"))


def test_torn_journal_line_is_cut(tmp_path):
    s = ShardStore(tmp_path).open()
    s.write_part(rows("a"))
    with open(s.journal_path, "ab") as f:
        f.write(b'{"id": "b", "sta')
    again = ShardStore(tmp_path).open()
    assert again.recovered["torn_journal_lines"] == 1
    assert again.done_ids() == {"a"}
    assert s.journal_path.read_bytes().endswith(b"\n")


def test_part_renamed_but_not_journaled_is_recovered(tmp_path):
    s = ShardStore(tmp_path).open()
    s.write_part(rows("a"))
    s.write_part(rows("b", "c"))
    lines = s.journal_path.read_text().splitlines()
    s.journal_path.write_text(lines[0] + "\n")  # as if killed between rename and journal write
    again = ShardStore(tmp_path).open()
    assert again.done_ids() == {"a", "b", "c"} and again.recovered["parts_journaled"] == 1
    assert len(again.journal_path.read_text().splitlines()) == 3


def test_retried_record_newer_part_wins(tmp_path):
    s = ShardStore(tmp_path).open()
    s.write_part(rows("a", status="failed"))
    s.write_part(rows("a", status="kept"))
    again = ShardStore(tmp_path).open()
    assert again.entries["a"]["status"] == "kept" and again.rows()["a"]["status"] == "kept"
    assert again.done_ids(include_failed=False) == {"a"}


def test_replace_dir_and_stale_cleanup(tmp_path):
    target = tmp_path / "sft"

    def build(d, text):
        (d / "f.txt").write_text(text)

    replace_dir(target, lambda d: build(d, "one"))
    replace_dir(target, lambda d: build(d, "two"))
    assert (target / "f.txt").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["sft"]
    (tmp_path / ".sft.tmp-123").mkdir()
    os.replace(target, tmp_path / ".sft.old-123")  # killed between the two renames
    clean_stale(tmp_path)
    assert (target / "f.txt").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["sft"]
    atomic_write_text(tmp_path / "README.md", "card")
    assert (tmp_path / "README.md").read_text() == "card" and not (tmp_path / "README.md.tmp").exists()


WRITER = """
import sys
from longform.shard_store import ShardStore
s = ShardStore(sys.argv[1]).open()
start = len(s.entries)
for i in range(start, 100000):
    s.write_part([{"id": f"r{i:06d}", "status": "kept", "reason": "", "blob": "y" * 2000}])
"""


def test_kill_9_while_writing_never_tears_a_part(tmp_path):
    """A writer killed with SIGKILL at arbitrary points: every part opens, ids are unique and gapless."""
    root = tmp_path / "w"
    journal = root / "journal.jsonl"
    before = 0
    for delay in (0.0, 0.013, 0.05, 0.002):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], cwd=os.getcwd())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_bytes().count(b"\n") >= before + 3:
                break
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = ShardStore(root).open()
        ids = []
        for part in store.part_paths():
            ids += [r["id"] for r in read_part(part)]
            pq.read_table(part)  # opens
        assert len(ids) == len(set(ids)), "a record was written twice"
        assert ids == [f"r{i:06d}" for i in range(len(ids))], "a record was lost"
        assert store.done_ids() == set(ids)
        assert all(json.loads(line) for line in store.journal_path.read_text().splitlines())
        assert len(ids) >= before + 3
        before = len(ids)
