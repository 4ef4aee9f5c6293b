"""A tiny real run of the iterate loop on the embedded model (marked `model`), training skipped (the
training steps run in `make selflengthen-smoke`; `longform.train` has its own real tests)."""

import json

import pytest
from longform.agents.response_check import check_response

from longform.selflengthen import loop
from longform.selflengthen.config import load_config
from longform.selflengthen.journal import read_jsonl


@pytest.mark.model
def test_one_iteration_on_the_embedded_model(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": s}) + "\n" for s in (
        "Write a detailed guide to keeping bees in a small garden.",
        "Write a long story about a baker who opens a shop by the sea.")))
    p = tmp_path / "c.yaml"
    p.write_text(f"""
name: real
out_dir: {tmp_path}/out
iterations: 1
models: {{generator: embedded, extender: embedded, n_ctx: 2048, threads: 1, no_cache: true}}
self_instruct: {{seeds: {seeds}, count: 1, max_tries: 1, include_seeds: true, max_tokens: 40}}
generate: {{samples: 1, target_words: 100, max_tokens: 48, gen_tries: 1}}
extend: {{factor: 2.0, max_rounds: 1, max_round_calls: 1, round_words_per_call: 10000, max_call_tokens: 64}}
train: {{skip: true}}
""")
    logs: list[str] = []
    recs = loop.run_loop(load_config(p), log=logs.append)
    rec = recs[0]
    it = tmp_path / "out" / "real" / "iter-1"
    ins = read_jsonl(it / "instructions.jsonl")
    initial = read_jsonl(it / "initial.jsonl")
    extended = read_jsonl(it / "extended.jsonl")
    assert {r["source"] for r in ins} >= {"seed"} and len(ins) == rec["counts"]["instructions"]
    assert len(initial) == len(ins) and len(extended) == len([r for r in initial if r["initial_words"] > 0])
    for r in extended:
        assert r["extended_words"] >= r["initial_words"]  # a round is kept only if the text grew
        if r["kept_rounds"]:
            assert check_response(r["extended"], r["lang"]).passed
    assert rec["first_response_words"]["words_mean"] is not None and rec["models"]["generator"] == "embedded"
    assert "skipped" in rec["train"]["generator"]
    assert (tmp_path / "out" / "real" / "summary.md").read_text().count("\n| 1 |") == 1
