"""Dataset builder control flow with a scripted fake backend (NOT a model; the end-to-end runs with
the real embedded model and a real llama_cpp.server are in tests/test_dataset_cli.py)."""

import asyncio
import json

import pyarrow.parquet as pq
import pytest
from longform.pipelines import dataset_builder as db

from longform.dataset_config import from_dict
from longform.errors import UserError
from longform.llm.retry import TransientError
from tests.pipelines.dataset_fakes import answer, fake_model, prose, without_timings


def write_instructions(path, items):
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


INSTRUCTIONS = [
    {"instruction": f"Describe harbour number {i} at dawn. Write about {200 + 50 * i} words."} for i in range(6)
]


def config(tmp_path, **over):
    src = write_instructions(tmp_path / "ins.jsonl", over.pop("instructions", INSTRUCTIONS))
    data = {
        "name": over.pop("name", "t"),
        "source": {"path": str(src)},
        "generation": {"methods": ["direct"], "samples": 2, "concurrency": 2},
        "output": {"dir": str(tmp_path / "out"), "part_rows": 2},
    }
    for key, value in over.items():
        section, _, field = key.partition("__")
        data.setdefault(section, {})[field] = value
    return from_dict(data, "test")


def lengths_by_seed(messages, params, target):
    # seed 0 writes to length; seed 1 writes far too short: a clear preference pair
    return target if params.seed == 0 else max(20, target // 3)


def run(cfg, step=None, **kw):
    model = fake_model(step or answer(lengths_by_seed))
    summary = asyncio.run(db.run_job(cfg, model, **kw))
    return summary, model


def split_rows(out, split):
    return pq.read_table(out / split).to_pylist()


def test_record_ids_are_stable_and_depend_on_generation_config(tmp_path):
    cfg = config(tmp_path)
    a = [t.id for t in db.plan_records(cfg).tasks]
    b = [t.id for t in db.plan_records(config(tmp_path)).tasks]
    assert a == b and len(set(a)) == 6 and all(len(i) == 16 for i in a)
    other = [t.id for t in db.plan_records(config(tmp_path, generation__seed=7)).tasks]
    assert not set(a) & set(other)
    filters_only = [t.id for t in db.plan_records(config(tmp_path, filters__min_length_score=50)).tasks]
    assert filters_only == a


def test_shards_partition_the_ids(tmp_path):
    cfg = config(tmp_path)
    every = {t.id for t in db.plan_records(cfg).tasks}
    parts = [{t.id for t in db.plan_records(cfg, (k, 3)).tasks} for k in range(3)]
    assert set().union(*parts) == every and sum(map(len, parts)) == len(every)
    assert all(int(i, 16) % 3 == k for k, p in enumerate(parts) for i in p)
    with pytest.raises(UserError, match="K/N"):
        db.parse_shard("1-2")
    with pytest.raises(UserError, match="0 <= K < N"):
        db.parse_shard("2/2")


def test_build_writes_trl_formats(tmp_path):
    cfg = config(tmp_path)
    summary, _ = run(cfg)
    assert summary.written == 6 and summary.counts == {"kept": 6}
    st = db.finalize(cfg)
    out = cfg.dataset_dir
    assert (st["kept"], st["sft"], st["dpo"], st["rm"], st["raw"]) == (6, 6, 6, 6, 6)
    sft = split_rows(out, "sft")
    assert [m["role"] for m in sft[0]["messages"]] == ["user", "assistant"]
    assert sft[0]["messages"][0]["content"].startswith("Describe harbour")
    dpo = split_rows(out, "dpo")
    for row in dpo:
        assert [m["role"] for m in row["prompt"]] == ["user"]
        assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]
        assert row["chosen_length_score"] >= row["rejected_length_score"] + cfg.filters.min_pair_margin
        assert len(row["chosen"][0]["content"]) > len(row["rejected"][0]["content"])
    rm = split_rows(out, "rm")
    assert [m["role"] for m in rm[0]["chosen"]] == ["user", "assistant"]
    raw = split_rows(out, "raw")
    cands = json.loads(raw[0]["candidates"])
    assert {c["seed"] for c in cands} == {0, 1} and all("check" in c and "usage" in c for c in cands)
    assert [r["id"] for r in raw] == sorted(r["id"] for r in raw)
    card = (out / "README.md").read_text()
    assert "## Drops by reason" in card and "length_hist.png" in card and (out / "length_hist.png").stat().st_size > 0
    assert f'data_dir="{out}/sft"' in card


def test_ties_give_no_pair_and_drops_are_counted(tmp_path):
    instructions = INSTRUCTIONS[:3] + [{"instruction": "请描写清晨的港口。字数约300字。"}]
    cfg = config(tmp_path, instructions=instructions)
    # both seeds write to length (a tie); the Chinese instruction gets English text (wrong language)
    run(cfg, answer(lambda m, p, target: target))
    st = db.finalize(cfg)
    assert st["kept"] == 3 and st["dpo"] == 0 and st["pairs_skipped"] == {"tie": 3}
    assert st["drops"] == {"wrong_language": 1}
    raw = {r["instruction"]: r for r in split_rows(cfg.dataset_dir, "raw")}
    assert raw["请描写清晨的港口。字数约300字。"]["status"] == "dropped"
    assert "| wrong_language | 1 |" in (cfg.dataset_dir / "README.md").read_text()


def test_duplicates_across_records_are_dropped_in_id_order(tmp_path):
    cfg = config(tmp_path, generation__samples=1)
    same = prose(300, salt=99)
    run(cfg, lambda messages, params: same if params.json_schema is None else "{}")
    st = db.finalize(cfg)
    # every instruction got the same text: the first id is kept, the rest are exact duplicates
    ids = sorted(t.id for t in db.plan_records(cfg).tasks)
    assert st["kept"] == 1 and st["drops"].get("exact_duplicate", 0) + st["drops"].get("length_score", 0) == 5
    assert split_rows(cfg.dataset_dir, "sft")[0]["id"] in ids[:3]


def test_resume_skips_finished_records_and_matches_a_single_run(tmp_path):
    ref_cfg = config(tmp_path, name="ref")
    run(ref_cfg)
    db.finalize(ref_cfg)
    cfg = config(tmp_path, name="resumed")
    first, _model1 = run(cfg, max_records=3)
    assert first.written == 3
    second, model2 = run(cfg)
    assert (second.skipped_done, second.written) == (3, 3)
    assert len(model2.backend.requests) == 3 * 2  # only the 3 missing records, 2 samples each
    third, model3 = run(cfg)
    assert (third.skipped_done, third.written, len(model3.backend.requests)) == (6, 0, 0)
    db.finalize(cfg)
    ref = split_rows(ref_cfg.dataset_dir, "raw")
    got = split_rows(cfg.dataset_dir, "raw")
    assert [r["id"] for r in got] == [r["id"] for r in ref]
    assert [r["text"] for r in got] == [r["text"] for r in ref]


def test_failed_record_is_reported_and_the_job_goes_on(tmp_path):
    cfg = config(tmp_path, generation__samples=1)
    target = db.plan_records(cfg).tasks[2]
    ok = answer()

    def flaky(messages, params):
        if any(target.ins.instruction in m["content"] for m in messages):
            raise TransientError("HTTP 503 from upstream")
        return ok(messages, params)

    summary, _ = run(cfg, flaky)
    assert summary.written == 6 and summary.counts["failed"] == 1
    assert summary.failed[0][0] == target.id and "503" in summary.failed[0][1]
    st = db.finalize(cfg)
    assert st["failed"] == 1 and st["kept"] == 5 and st["failures"] == {"ModelError": 1}
    assert st["failed_records"][0]["id"] == target.id
    assert target.id in (cfg.dataset_dir / "README.md").read_text()
    # a plain re-run keeps the failure; --retry-failed runs it again
    again, m = run(cfg, flaky)
    assert again.written == 0 and len(m.backend.requests) == 0
    fixed, _ = run(cfg, ok, retry_failed=True)
    assert fixed.written == 1 and fixed.counts.get("failed", 0) == 0
    st = db.finalize(cfg)
    assert (st["failed"], st["kept"], st["raw"]) == (0, 6, 6)


def test_shards_merged_equal_a_single_run(tmp_path):
    single = config(tmp_path, name="single")
    run(single)
    db.finalize(single)
    sharded = config(tmp_path, name="sharded")
    for k in range(2):
        run(sharded, shard=(k, 2))
    with pytest.raises(UserError, match="missing"):
        db.finalize(sharded, db.find_work_dirs([sharded.dataset_dir / "work" / "shard-0-of-2"]))
    db.finalize(sharded)
    for split in ("sft", "dpo", "rm", "raw"):
        assert without_timings(split_rows(sharded.dataset_dir, split)) == without_timings(split_rows(single.dataset_dir, split))
    partial = db.finalize(sharded, db.find_work_dirs([sharded.dataset_dir / "work" / "shard-1-of-2"]),
                          allow_partial=True, out_dir=tmp_path / "partial")
    assert partial["missing_shards"] == [0] and 0 < partial["records"] < 6


def test_changed_generation_config_refuses_the_old_folder(tmp_path):
    cfg = config(tmp_path, generation__samples=1)
    run(cfg, max_records=1)
    with pytest.raises(UserError, match="different generation config"):
        run(config(tmp_path, generation__samples=1, generation__seed=3))


def test_filters_are_reapplied_at_finalize(tmp_path):
    cfg = config(tmp_path)
    run(cfg)
    assert db.finalize(cfg)["kept"] == 6
    strict = config(tmp_path, filters__min_words=100000)
    st = db.finalize(strict)
    assert st["kept"] == 0 and st["drops"] == {"too_short": 6}


def test_target_bounds_drop_before_generation(tmp_path):
    cfg = config(tmp_path, generation__max_target_words=300)
    _summary, model = run(cfg)
    st = db.finalize(cfg)
    assert st["drops"].get("target_too_long") == 3
    assert len(model.backend.requests) == 3 * 2
