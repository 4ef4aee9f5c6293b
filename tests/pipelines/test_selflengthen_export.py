"""The dataset job's extender split (ext_sft) when it runs selflengthen (scripted fake backend: control flow)."""

import asyncio
import json

import pyarrow.parquet as pq
from longform.pipelines import dataset_builder as db
from longform.pipelines import selflengthen_export

from tests.pipelines.dataset_fakes import fake_model, prose
from tests.pipelines.test_dataset_builder import config


def first_short_then_long(messages, params):
    # the generator's call (no outline) writes a short first response; extender calls write more
    if "Original outline" in messages[-1]["content"] or messages[-1]["role"] != "user" or len(messages) > 2:
        return prose(200, salt=params.seed or 0)
    return "\n".join(prose(12, salt=k) for k in range(8))


def test_ext_sft_rows_are_the_expand_prompt_over_the_first_response(tmp_path):
    cfg = config(tmp_path, generation__methods=["selflengthen"], generation__samples=1,
                 filters__min_length_score=0, source__limit=2)
    asyncio.run(db.run_job(cfg, fake_model(first_short_then_long)))
    st = db.finalize(cfg)
    assert st["ext_sft"] > 0
    rows = pq.read_table(cfg.dataset_dir / "ext_sft").to_pylist()
    raw = {r["id"]: r for r in pq.read_table(cfg.dataset_dir / "raw").to_pylist()}
    assert len(rows) == st["ext_sft"]
    for row in rows:
        user, answer = row["messages"][-2], row["messages"][-1]
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert "Original outline" in user["content"] and answer["role"] == "assistant"
        rec = raw[row["id"].rsplit("-", 1)[0]]
        assert answer["content"] == rec["text"] and row["words"] > row["first_words"]
        cand = next(c for c in json.loads(rec["candidates"]) if row["id"].endswith(f"-{c['seed']}"))
        first_lines = [ln for ln in cand["plan_meta"]["first_response"].split("\n") if ln.strip()]
        outline = user["content"].split("Original outline:\n\n", 1)[1].split("\n\nInstruction:", 1)[0]
        shown = [ln for ln in outline.split("\n") if ln.strip()]
        assert shown and set(shown) <= set(first_lines)  # lines of the first response, some dropped


def test_no_selflengthen_no_split(tmp_path):
    cfg = config(tmp_path)
    from tests.pipelines.dataset_fakes import answer

    asyncio.run(db.run_job(cfg, fake_model(answer())))
    st = db.finalize(cfg)
    assert st["ext_sft"] == 0 and not (cfg.dataset_dir / "ext_sft").exists()


def test_rows_skip_candidates_that_did_not_grow_or_failed():
    rec = {"id": "00ff00ff00ff00ff", "status": "kept", "instruction": "Write.", "lang": "en", "target_words": 300}
    good = {"method": "selflengthen", "seed": 0, "text": prose(300), "words": 300, "check": {"passed": True},
            "plan_meta": {"first_response": prose(100)}}
    same = {**good, "seed": 1, "words": 100, "text": prose(100)}
    failed = {**good, "seed": 2, "check": {"passed": False}}
    other = {**good, "seed": 3, "method": "direct"}
    rows = selflengthen_export.extender_rows([{**rec, "candidates": [good, same, failed, other]}])
    assert [r["id"] for r in rows] == ["00ff00ff00ff00ff-0"]
    assert selflengthen_export.extender_rows([{**rec, "status": "dropped", "candidates": [good]}]) == []
