"""`longform dataset` end to end: the real CLI in subprocesses with the real embedded model (and a
real llama_cpp.server behind a fault proxy), on a tiny job: 3 short instructions, direct x 2 seeds."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.llm.conftest import llama_server  # noqa: F401  (session fixture: a real llama_cpp.server)
from tests.llm.fault_proxy import FaultProxy
from tests.pipelines.dataset_fakes import without_timings

URL_SECRET = "s3cret-in-url-77"
INSTRUCTIONS = [
    "Write about 120 words describing a quiet harbour at dawn.",
    "Write about 120 words on why people keep paper notebooks.",
    "Write about 120 words about a cat that waits at a train station.",
]


def write_job(root: Path, name: str, *, cache: Path | None, model: str = "embedded", base_url: str | None = None,
              samples: int = 2, extra_model: dict | None = None, instructions: list[str] = INSTRUCTIONS,
              part_rows: int = 1) -> Path:
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    ins = root / f"{name}.jsonl"
    ins.write_text("".join(json.dumps({"instruction": i}) + "\n" for i in instructions), encoding="utf-8")
    cfg = {
        "name": name,
        "source": {"path": str(ins)},
        "generation": {"methods": ["direct"], "samples": samples, "concurrency": 1, "default_target_words": 120},
        "model": {"model": model, "base_url": base_url, "n_ctx": 352, "threads": 1,
                  **({"cache_path": str(cache)} if cache else {"no_cache": True}), **(extra_model or {})},
        "output": {"dir": str(root / "out"), "part_rows": part_rows},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "longform.cli", "dataset", *args]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(cli(*args), capture_output=True, text=True, timeout=600, cwd=os.getcwd())
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return p


def rows(ds: Path, split: str) -> list[dict]:
    return pq.read_table(ds / split).to_pylist()


def journal_ids(ds: Path) -> list[str]:
    ids = []
    for j in sorted((ds / "work").glob("shard-*/journal.jsonl")):
        ids += [json.loads(line)["id"] for line in j.read_text().splitlines() if line.strip()]
    return ids


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    return tmp_path_factory.mktemp("dsjobs")


@pytest.fixture(scope="module")
def reference(jobs):
    """One uninterrupted run: the dataset every other scenario is compared with."""
    cfg = write_job(jobs, "ref", cache=jobs / "ref-cache.sqlite")
    p = run_cli("build", "--config", str(cfg), "--no-progress")
    ds = jobs / "out" / "ref"
    assert p.stdout.strip() == str(ds)
    return cfg, ds, p


@pytest.mark.model
def test_build_writes_loadable_splits_and_card(reference):
    from datasets import load_dataset

    _cfg, ds, p = reference
    raw = rows(ds, "raw")
    assert len(raw) == 3 and len({r["id"] for r in raw}) == 3
    assert all(r["status"] in ("kept", "dropped") for r in raw)
    for r in raw:
        cands = json.loads(r["candidates"])
        assert [c["seed"] for c in cands] == [0, 1] and all(c["words"] > 0 for c in cands)
    for split in ("sft", "dpo", "rm", "raw"):
        loaded = load_dataset("parquet", data_dir=str(ds / split), split="train")
        assert loaded["id"] == [r["id"] for r in rows(ds, split)]
    # `datasets` caches a local folder loaded by config name under the folder's name: force a reload
    via_card = load_dataset(str(ds), "raw", split="train", download_mode="force_redownload")
    assert sorted(via_card["id"]) == sorted(r["id"] for r in raw)
    card = (ds / "README.md").read_text()
    stats = json.loads((ds / "stats.json").read_text())
    assert stats["records"] == 3 and stats["kept"] + stats["dropped"] == 3
    assert f"| kept | {stats['kept']} |" in card and "## Drops by reason" in card
    assert (ds / "length_hist.png").read_bytes()[:4] == b"\x89PNG"
    assert "records" in p.stderr and "kept" in p.stderr


@pytest.mark.model
def test_trl_trainers_accept_sft_and_dpo(reference, tmp_path):
    from tests.trl_helpers import tiny_trl_steps

    _, ds, _ = reference
    if not rows(ds, "sft") or not rows(ds, "dpo"):
        # The embedded model's outputs may all fail the filters. The filters are re-applied at merge
        # time (no regeneration), so merge the same records with permissive filters into another folder.
        import yaml

        c = yaml.safe_load((ds.parent.parent / "ref.yaml").read_text())
        c["filters"] = {"min_length_score": 0, "max_ngram_repetition": 1.0, "loop_check": False,
                        "require_clean_ending": False, "check_language": False, "min_words": 1,
                        "min_pair_margin": 0.0}
        lenient = tmp_path / "lenient.yaml"
        lenient.write_text(yaml.safe_dump(c))
        run_cli("merge", "--config", str(lenient), "--out-dir", str(tmp_path / "out"), str(ds))
        ds = tmp_path / "out" / "ref"
    assert rows(ds, "sft") and rows(ds, "dpo")
    losses = tiny_trl_steps(ds, tmp_path)
    assert losses["sft"] > 0 and losses["dpo"] > 0


@pytest.mark.model
def test_shards_merged_equal_a_single_run(reference, jobs):
    _cfg, ref, _ = reference
    # same model, seeds and cache: the shards' records are the reference's, served from the cache
    scfg = write_job(jobs, "sharded", cache=jobs / "ref-cache.sqlite")
    for k in range(2):
        p = run_cli("build", "--config", str(scfg), "--shard", f"{k}/2", "--no-progress")
        assert "merge" in p.stderr
    ds = jobs / "out" / "sharded"
    ids = [json.loads(line)["id"] for line in (ds / "work" / "shard-0-of-2" / "journal.jsonl").read_text().splitlines()]
    assert all(int(i, 16) % 2 == 0 for i in ids)
    run_cli("merge", "--config", str(scfg))
    for split in ("sft", "dpo", "rm", "raw"):
        got = without_timings(rows(ds, split))
        want = without_timings(rows(ref, split))
        for r in got + want:
            r.pop("source", None)  # the instruction file's name differs
        assert got == want, split


@pytest.mark.model
def test_kill_9_and_resume_neither_loses_nor_duplicates(jobs):
    cache = jobs / "killed-cache.sqlite"  # its own cache: the killed runs really generate
    cfg = write_job(jobs, "killed", cache=cache, samples=1)
    ds = jobs / "out" / "killed"
    journal = ds / "work" / "shard-0-of-1" / "journal.jsonl"
    for kill_after in (1, 2):
        proc = subprocess.Popen(cli("build", "--config", str(cfg), "--no-progress"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=os.getcwd())
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= kill_after:
                break
            assert proc.poll() is None, "the job ended before it could be killed"
            time.sleep(0.05)
        time.sleep(0.3)  # into the next record's generation
        assert proc.poll() is None, "the job ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for part in (ds / "work" / "shard-0-of-1" / "parts").glob("*.parquet"):
            pq.read_table(part)  # every part opens
        assert len(journal_ids(ds)) == len(set(journal_ids(ds))) >= kill_after
    p = run_cli("build", "--config", str(cfg), "--no-progress")
    assert "already done" in p.stderr
    ids = journal_ids(ds)
    assert len(ids) == len(set(ids)) == 3
    # the same job, uninterrupted (its calls come from the cache the killed runs filled)
    whole = write_job(jobs, "uninterrupted", cache=cache, samples=1)
    run_cli("build", "--config", str(whole), "--no-progress")
    ref = jobs / "out" / "uninterrupted"
    for split in ("sft", "dpo", "rm", "raw"):
        got, want = without_timings(rows(ds, split)), without_timings(rows(ref, split))
        assert [r["id"] for r in got] == [r["id"] for r in want] and len({r["id"] for r in got}) == len(got)
        for r in got + want:
            r.pop("source", None)
        assert got == want, split
    assert len(rows(ds, "raw")) == 3
    assert not list(ds.rglob("*.tmp"))


@pytest.mark.model
def test_sigterm_keeps_buffered_records_and_says_how_to_resume(jobs):
    """SIGTERM (preemption) takes the Ctrl-C path: records finished but still buffered are written."""
    cfg = write_job(jobs, "termed", cache=jobs / "termed-cache.sqlite", samples=1, part_rows=100)
    ds = jobs / "out" / "termed"
    # Started as a shell starts a background job: SIGINT ignored. SIGTERM must still save the work.
    proc = subprocess.Popen(cli("build", "--config", str(cfg), "--no-progress"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=os.getcwd(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines = []
    for line in proc.stderr:  # --no-progress prints one line per finished record: "[1/3] <id> kept"
        lines.append(line)
        if line.startswith("[1/"):
            break
    assert proc.poll() is None, "".join(lines)
    proc.send_signal(signal.SIGTERM)
    err = "".join(lines) + proc.stderr.read()
    proc.wait(timeout=300)
    assert proc.returncode == 130, err
    assert "interrupted" in err and f"longform dataset build --config {cfg}" in err
    assert len(journal_ids(ds)) >= 1  # the buffered record reached the journal
    p = run_cli("build", "--config", str(cfg), "--no-progress")
    ids = journal_ids(ds)
    assert len(ids) == len(set(ids)) == 3 and "already done" in p.stderr


@pytest.mark.model
def test_bad_input_names_the_problem_and_keeps_what_was_written(reference, jobs):
    cfg, ds, _ = reference
    before = tree_digest(ds)
    import yaml

    c = yaml.safe_load(cfg.read_text())
    broken = jobs / "broken.jsonl"
    broken.write_text('{"instruction": "Write about 120 words on owls."}\n{"instruction": "oops"\n')
    cases = {
        "unknown key": ({**c, "filterz": {}}, "unknown key `filterz`"),
        "unknown nested key": ({**c, "generation": {**c["generation"], "sample": 2}}, "`generation.sample`"),
        "missing file": ({**c, "source": {"path": str(jobs / "nope.jsonl")}}, "nope.jsonl does not exist"),
        "malformed line": ({**c, "source": {"path": str(broken)}}, "broken.jsonl:2: not valid JSON"),
    }
    for label, (data, message) in cases.items():
        path = jobs / f"bad-{label.replace(' ', '-')}.yaml"
        path.write_text(yaml.safe_dump(data))
        p = run_cli("build", "--config", str(path), check=False)
        assert p.returncode == 2, label
        assert message in p.stderr and str(path.name) in p.stderr or message in p.stderr, (label, p.stderr)
        assert "Traceback" not in p.stderr
    noins = jobs / "noins.jsonl"
    noins.write_text('{"instruction": "Write about 120 words on owls."}\n{"title": "x"}\n')
    path = jobs / "bad-noins.yaml"
    path.write_text(yaml.safe_dump({**c, "source": {"path": str(noins)}}))
    p = run_cli("build", "--config", str(path), check=False)
    assert p.returncode == 2 and "noins.jsonl:2: record has no instruction" in p.stderr
    assert tree_digest(ds) == before  # nothing already written was touched


@pytest.mark.model
@pytest.mark.server
def test_flaky_server_still_yields_the_full_dataset(llama_server, tmp_path):  # noqa: F811
    schedule = ["500", "ok", "429", "drop", "ok", "garbage", "503", "ok"]
    with FaultProxy(llama_server, schedule) as proxy:
        # Credentials in the URL (user-info and a key-like query parameter) must reach no file.
        url = proxy.url.replace("http://", f"http://alice:{URL_SECRET}@") + f"/v1?api_key={URL_SECRET}"
        cfg = write_job(tmp_path, "flaky", cache=tmp_path / "cache.sqlite", model="openai:smollm2", base_url=url,
                        samples=1, extra_model={"concurrency": 1, "timeout_s": 60, "retries": 6})
        p = run_cli("build", "--config", str(cfg), "--no-progress")
    assert {"500", "429", "drop", "garbage"} <= set(proxy.seen)
    ds = tmp_path / "out" / "flaky"
    raw = rows(ds, "raw")
    assert len(raw) == 3 and all(r["status"] != "failed" for r in raw), p.stderr
    assert all(r["text"] for r in raw)
    leaked = [str(f) for f in (tmp_path / "out").rglob("*") if f.is_file() and URL_SECRET.encode() in f.read_bytes()]
    leaked += [f.name for f in tmp_path.glob("cache.sqlite*") if URL_SECRET.encode() in f.read_bytes()]
    assert not leaked and URL_SECRET not in p.stderr + p.stdout, leaked


@pytest.mark.model
@pytest.mark.server
def test_record_failing_for_good_is_reported_and_retried(llama_server, tmp_path):  # noqa: F811
    # retries=2: the first record's two attempts both get 500 and it fails for good; the rest succeed
    schedule = ["500", "500"] + ["ok"] * 30
    with FaultProxy(llama_server, schedule) as proxy:
        cfg = write_job(tmp_path, "failing", cache=tmp_path / "cache.sqlite", model="openai:smollm2",
                        base_url=f"{proxy.url}/v1", samples=1,
                        extra_model={"concurrency": 1, "timeout_s": 60, "retries": 2})
        p = run_cli("build", "--config", str(cfg), "--no-progress")
        ds = tmp_path / "out" / "failing"
        stats = json.loads((ds / "stats.json").read_text())
        assert stats["failed"] == 1 and stats["records"] == 3, p.stderr
        failed_id = stats["failed_records"][0]["id"]
        assert f"failed {failed_id}" in p.stderr and "500" in p.stderr and "--retry-failed" in p.stderr
        assert failed_id in (ds / "README.md").read_text()
        seen = len(proxy.seen)
        p = run_cli("build", "--config", str(cfg), "--no-progress", "--retry-failed")
        assert len(proxy.seen) == seen + 1  # only the failed record is asked again
    stats = json.loads((ds / "stats.json").read_text())
    assert stats["failed"] == 0 and stats["records"] == 3
    assert len(journal_ids(ds)) == 4 and len(set(journal_ids(ds))) == 3  # failed entry, then its retry


def test_push_to_hub_pushes_every_split_and_the_card(tmp_path, monkeypatch):
    """--push-to-hub goes through the `datasets` API (network calls replaced by recorders)."""
    import asyncio

    import datasets
    import huggingface_hub
    from longform.pipelines import dataset_builder as db

    from longform.commands.dataset import push_to_hub
    from longform.dataset_config import from_dict
    from tests.pipelines.dataset_fakes import answer, fake_model

    ins = tmp_path / "i.jsonl"
    ins.write_text("".join(json.dumps({"instruction": i}) + "\n" for i in INSTRUCTIONS))
    cfg = from_dict({"name": "p", "source": {"path": str(ins)}, "generation": {"methods": ["direct"], "samples": 2},
                     "output": {"dir": str(tmp_path / "out")}})
    asyncio.run(db.run_job(cfg, fake_model(answer(lambda m, p, t: t if p.seed == 0 else t // 3))))
    db.finalize(cfg)
    pushed, uploaded = [], []
    monkeypatch.setattr(datasets.Dataset, "push_to_hub",
                        lambda self, repo, config_name=None, split=None, **kw: pushed.append((repo, config_name, split, self.num_rows)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_file",
                        lambda self, path_or_fileobj, path_in_repo, repo_id, repo_type: uploaded.append((path_in_repo, repo_type)))
    push_to_hub(cfg.dataset_dir, "someone/longform-test")
    assert [(c, s) for _, c, s, _ in pushed] == [("sft", "train"), ("dpo", "train"), ("rm", "train"), ("raw", "train")]
    assert {r for r, *_ in pushed} == {"someone/longform-test"} and pushed[0][3] == 3
    assert ("README.md", "dataset") in uploaded and any(p.endswith(".png") for p, _ in uploaded)
