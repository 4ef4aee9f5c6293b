"""`selflengthen` on the real embedded model (marked `model`): what the program guarantees, whatever
the sampled text says. Bad input through the writer CLI needs no model."""

import asyncio

import pytest
from longform.agents.extender import ExtenderSettings
from longform.agents.generator import GeneratorSettings
from longform.agents.response_check import check_response
from longform.pipelines import selflengthen
from longform.pipelines.selflengthen import SelfLengthenSettings

from longform.llm import load_model
from longform.text import count_words
from longform.writer_cli import main
from tests.model_threads import THREADS


def test_writer_bad_flags_exit_2(tmp_path, capsys):
    assert main(["Write about tea.", "--words", "0", "--method", "selflengthen", "--out", str(tmp_path / "o")]) == 2
    assert len([l for l in capsys.readouterr().err.splitlines() if l.strip()]) == 1


@pytest.mark.model
def test_rounds_on_the_embedded_model(tmp_path):
    target = 150
    s = SelfLengthenSettings(
        gen_tries=2, generator=GeneratorSettings(max_tokens=60),
        extender=ExtenderSettings(max_rounds=1, max_round_calls=1, round_words_per_call=10_000, max_call_tokens=120))
    model = load_model(n_threads=THREADS, no_cache=True, n_ctx=2048, call_log_path=str(tmp_path / "calls.jsonl"))
    try:
        r = asyncio.run(selflengthen.run(model, "Write a short guide to brewing green tea at home.", target, seed=3,
                                         settings=s, checkpoint_path=tmp_path / "ck.sqlite", thread_id="e2e"))
    finally:
        asyncio.run(model.aclose())
    first, rounds = r.plan_meta["first_words"], r.sections[1:]
    e = s.extender
    assert r.usage["calls"] <= s.gen_tries + e.max_rounds * (1 + selflengthen.ext.round_call_limit(target, e))
    assert r.words <= target * (1 + e.over_tolerance)  # cut past the target by the program
    assert r.words >= first  # a round is kept only if the text grew
    for rd in rounds:
        assert rd["kept"] == (not rd["reasons"]) and (not rd["kept"] or rd["candidate"] > rd["before"])
    if r.plan_meta["kept_rounds"]:
        assert check_response(r.text, "en").passed  # a kept round passes the Self-Lengthen check
    else:
        assert r.text == r.plan_meta["first_response"] and count_words(r.text) == first
    assert len(rounds) == e.max_rounds or r.words >= target * (1 - e.target_tolerance)


def test_writer_max_rounds_bad_value_exits_2_before_writing(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["Write about tea.", "--words", "300", "--method", "selflengthen", "--max-rounds", "-1",
                 "--out", str(out)]) == 2
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and "--max-rounds" in err[0] and not out.exists()


def test_writer_max_rounds_reaches_the_settings():
    from longform.pipelines import registry

    from longform.writer_cli import build_parser, method_options

    assert build_parser().parse_args(["x", "--out", "o", "--max-rounds", "3"]).max_rounds == 3
    s = registry.settings_for("selflengthen", method_options({"settings": {"max_rounds": 0}}))
    assert s.extender.max_rounds == 0
