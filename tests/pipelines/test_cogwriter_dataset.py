"""The dataset job with `generation.methods: [cogwriter, direct]` (config checked and methods looked up
through the registry), on a scripted fake backend (control flow only): each record gets candidates
from both, and a record whose instruction asks for the impossible fails with its reason."""

import asyncio
import json
import re

from longform.pipelines import dataset_builder as db

from bench.sim_server import instance
from longform.dataset_config import from_dict
from tests.pipelines.dataset_fakes import fake_model, prose


def step(messages, params):
    if params.json_schema is not None:
        return json.dumps(instance(params.json_schema))
    m = re.search(r"(\d+) (?:more )?words", messages[-1]["content"])
    return prose(int(m.group(1)) if m else 150, salt=len(messages[-1]["content"]))


def test_dataset_job_runs_cogwriter_through_the_registry(tmp_path):
    src = tmp_path / "ins.jsonl"
    rows = [{"instruction": "Describe a harbour at dawn. Write about 300 words."},
            {"instruction": 'Write a 4-week diary of a fisherman, about 400 words. Week 2 mentions "the storm".'},
            {"instruction": 'A 4-week diary, about 400 words, where week 9 mentions "a whale".'}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = from_dict({"name": "cw", "source": {"path": str(src)},
                     "generation": {"methods": ["cogwriter", "direct"], "samples": 1, "concurrency": 2},
                     "output": {"dir": str(tmp_path / "out"), "part_rows": 1}}, "test")
    plan = db.plan_records(cfg)
    model = fake_model(step)
    table = [asyncio.run(db.generate_record(model, task, cfg)) for task in plan.tasks]
    assert len(table) == 3

    def row(prefix):
        return next(r for r in table if r["instruction"].startswith(prefix))

    diary = row("Write a 4-week diary")
    cands = diary["candidates"]
    cog = next(c for c in cands if c["method"] == "cogwriter")
    assert re.findall(r"^## (.+)$", cog["text"], re.MULTILINE) == ["Week 1", "Week 2", "Week 3", "Week 4"]
    harbour = row("Describe a harbour")["candidates"]
    assert {c["method"] for c in harbour} == {"cogwriter", "direct"}
    bad = row("A 4-week diary")
    assert bad["status"] == "failed" and bad["reason"] == "UserError" and "week 9" in bad["error"]
