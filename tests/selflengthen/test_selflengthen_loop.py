"""The iterate loop's control flow: steps, resume, model hand-over between iterations.

The models are the scripted fake (NOT a model) and training is replaced by a stub that writes a
checkpoint folder: this tests the loop's bookkeeping. The real model runs the loop in
test_selflengthen_loop_real.py, and `make selflengthen-smoke` runs it end to end with training.
"""

import json
from pathlib import Path

import pytest

from longform import cli
from longform.errors import UserError
from longform.selflengthen import loop, steps
from longform.selflengthen.config import load_config
from longform.selflengthen.journal import Journal, read_jsonl
from tests.fakes import ScriptedFakeBackend, fake_model, prose

SEEDS = [f"Write a detailed history of invention number {i} and how it changed daily life." for i in range(4)]


class Boom(Exception):
    pass


class Models:
    """A scripted fake per model spec; records which spec answered which kind of call."""

    def __init__(self, fail_extend_after: int | None = None):
        self.calls: list[tuple[str, str]] = []  # (spec, kind)
        self.fail_extend_after = fail_extend_after
        self.counter = 0

    def reply(self, spec):
        def step(messages, params):
            last = messages[-1]["content"]
            if params.json_schema is not None:
                kind = "judge"
            elif "Instruction 1:" in last:
                kind = "instruct"
            elif "Original outline" in messages[1]["content"]:
                kind = "extend"
            else:
                kind = "generate"
            self.calls.append((spec, kind))
            self.counter += 1
            if kind == "judge":
                return '{"answer": "yes"}'
            if kind == "instruct":
                return f"Instruction 3: Write a long, detailed guide to hobby number {self.counter} for beginners."
            if kind == "extend":
                n_ext = sum(1 for _, k in self.calls if k == "extend")
                if self.fail_extend_after is not None and n_ext > self.fail_extend_after:
                    raise Boom("killed during extend")
                return prose(120)
            return prose(80)

        return step

    def open(self, ctx, spec, role):
        return fake_model(ScriptedFakeBackend(default=self.reply(spec)))


def fake_train(ctx, role, previous):
    out = ctx.path(f"train/{role}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text("{}")
    (out / "model.safetensors").write_bytes(b"")
    rows = read_jsonl(ctx.path("gen_sft.jsonl" if role == "generator" else "ext_sft.jsonl"))
    return {"checkpoint": str(out.resolve()), "base": previous or ctx.cfg.train.base_model, "steps": 1,
            "rows": len(rows), "first_loss": 2.0, "last_loss": 1.5}


def make_config(tmp_path, **sets):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": s}) + "\n" for s in SEEDS))
    p = tmp_path / "c.yaml"
    p.write_text(f"""
name: t
out_dir: {tmp_path}/out
iterations: 2
self_instruct: {{seeds: {seeds}, count: 2, max_tries: 2}}
generate: {{samples: 1, target_words: 100, max_tokens: 200}}
extend: {{factor: 2.0, max_rounds: 1, max_round_calls: 2}}
filters: {{min_growth: 1.2, min_format_score: 0.0}}
train: {{config: configs/train/cpu-smoke-sft.yaml}}
""")
    return load_config(p, sets)


@pytest.fixture
def models(monkeypatch):
    m = Models()
    monkeypatch.setattr(steps, "open_model", m.open)
    monkeypatch.setattr(steps, "train_one", fake_train)
    return m


def test_two_iterations_hand_over_the_checkpoints(tmp_path, models):
    cfg = make_config(tmp_path)
    recs = loop.run_loop(cfg, log=lambda m: None)
    assert [r["iteration"] for r in recs] == [1, 2]
    it1 = cfg.run_dir / "iter-1"
    assert recs[0]["models"]["generator"] == "embedded"
    assert recs[1]["models"]["generator"] == f"transformers:{(it1 / 'train/generator').resolve()}"
    assert recs[1]["models"]["extender"] == f"transformers:{(it1 / 'train/extender').resolve()}"
    # iteration 2 generated and extended with iteration 1's checkpoints; the instructor stays the base
    gen_specs = [s for s, k in models.calls if k == "generate"]
    assert gen_specs == ["embedded"] * 2 + [recs[1]["models"]["generator"]] * 2
    ext_specs = {s for s, k in models.calls if k == "extend"}
    assert ext_specs == {"embedded", recs[1]["models"]["extender"]}
    assert {s for s, k in models.calls if k in ("instruct", "judge")} == {"embedded"}
    for r in recs:
        c = r["counts"]
        assert c["instructions"] == 2 and c["first_responses"] == 2 and c["extended"] == 2 and c["kept"] == 2
        assert r["first_response_words"]["words_mean"] == 80
        assert r["extended_words"]["words_mean"] > 80 and r["length_score_first"] is not None
    md = (cfg.run_dir / "summary.md").read_text()
    assert md.count("\n| 1 |") == 1 and md.count("\n| 2 |") == 1
    gen_sft = read_jsonl(it1 / "gen_sft.jsonl")
    ext_sft = read_jsonl(it1 / "ext_sft.jsonl")
    assert [m["role"] for m in gen_sft[0]["messages"]] == ["system", "user", "assistant"]
    assert "Original outline" in ext_sft[0]["messages"][1]["content"]
    assert gen_sft[0]["messages"][-1]["content"] == ext_sft[0]["messages"][-1]["content"]
    # a rerun does nothing again
    n = len(models.calls)
    loop.run_loop(cfg, log=lambda m: None)
    assert len(models.calls) == n


def test_a_killed_step_resumes_without_redoing_finished_work(tmp_path, monkeypatch):
    cfg = make_config(tmp_path, iterations=1)
    m = Models(fail_extend_after=2)  # the first record's round (expand + continue) finishes, the second dies
    monkeypatch.setattr(steps, "open_model", m.open)
    monkeypatch.setattr(steps, "train_one", fake_train)
    with pytest.raises(Boom):
        loop.run_loop(cfg, log=lambda x: None)
    first_calls = list(m.calls)
    done = Journal(cfg.run_dir / "iter-1" / "extended.jsonl").load()
    assert len(done) == 1
    m2 = Models()
    monkeypatch.setattr(steps, "open_model", m2.open)
    recs = loop.run_loop(cfg, log=lambda x: None)
    kinds = [k for _, k in m2.calls]
    assert "instruct" not in kinds and "judge" not in kinds and "generate" not in kinds
    assert 0 < kinds.count("extend") <= 3  # only the unfinished record: its graph resumes at the call in flight
    assert recs[0]["counts"]["extended"] == 2 and len(first_calls) > 0
    state = json.loads((cfg.run_dir / "iter-1" / "state.json").read_text())
    assert all(state["steps"][s]["done"] for s in loop.STEPS)


def test_nothing_kept_skips_training_and_keeps_the_models(tmp_path, models):
    cfg = make_config(tmp_path, **{"filters.min_growth": 50.0})
    recs = loop.run_loop(cfg, log=lambda m: None)
    assert recs[0]["counts"]["kept"] == 0
    assert "skipped" in recs[0]["train"]["generator"]
    assert recs[1]["models"]["generator"] == "embedded"


def test_a_changed_config_refuses_the_old_run(tmp_path, models):
    loop.run_loop(make_config(tmp_path, iterations=1), log=lambda m: None)
    loop.run_loop(make_config(tmp_path, iterations=2), log=lambda m: None)  # more iterations: allowed
    with pytest.raises(UserError, match="holds a run with another config"):
        loop.run_loop(make_config(tmp_path, **{"extend.factor": 3.0}), log=lambda m: None)


def test_deleted_checkpoint_is_a_clear_error(tmp_path, models):
    cfg = make_config(tmp_path, iterations=1)
    loop.run_loop(cfg, log=lambda m: None)
    import shutil

    shutil.rmtree(cfg.run_dir / "iter-1" / "train" / "generator")
    cfg2 = make_config(tmp_path, iterations=2)
    with pytest.raises(UserError, match="missing checkpoint"):
        loop.run_loop(cfg2, log=lambda m: None)


def test_journal_drops_a_torn_last_line(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.append({"id": "a", "x": 1})
    with open(tmp_path / "j.jsonl", "a") as f:
        f.write('{"id": "b", "x"')
    assert list(j.load()) == ["a"]
    j.append({"id": "c"})
    assert list(j.load()) == ["a", "c"]


@pytest.mark.parametrize("case", ["missing_checkpoint", "bad_seeds"])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, case):
    if case == "missing_checkpoint":
        text = f"models:\n  generator: transformers:{tmp_path}/no-such-checkpoint\n"
    else:
        seeds = tmp_path / "empty.jsonl"
        seeds.write_text("\n")
        text = f"self_instruct:\n  seeds: {seeds}\n"
    p = tmp_path / "c.yaml"
    p.write_text(text)
    code = cli.main(["selflengthen", "iterate", "--config", str(p), "--set", f"out_dir={tmp_path}/o"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ")
    assert not Path(tmp_path / "o").exists()  # nothing written before the check
