"""The combined reward: weights, renormalisation over the components that exist, the penalty."""

import asyncio
import json

import pytest
from longform.reward_models.combined import (
    RewardConfig,
    RewardWeights,
    combine,
    load_reward_config,
    reward_config_from_dict,
    score_all,
)
from longform.reward_models.quality import DIMENSIONS

from longform.errors import UserError
from tests.fakes import ScriptedFakeBackend, fake_model, looping, prose


def test_combine_by_hand():
    w = RewardWeights(length=2.0, format=1.0, quality=1.0, rm=0.0)
    value, used = combine({"length": 0.5, "format": 1.0, "quality": 0.25, "rm": 0.9}, w, False, 0.25)
    assert value == pytest.approx((2 * 0.5 + 1.0 + 0.25) / 4)  # rm has weight 0: left out
    assert used == {"length": 0.5, "format": 0.25, "quality": 0.25}
    value, used = combine({"length": None, "format": 0.8, "quality": None, "rm": None}, w, False, 0.25)
    assert value == pytest.approx(0.8) and used == {"format": 1.0}
    assert combine({"length": 1.0, "format": 1.0, "quality": None, "rm": None}, w, True, 0.25)[0] == pytest.approx(0.75)
    assert combine({"length": None, "format": None, "quality": None, "rm": None}, w, False, 0.25) == (None, {})


def test_score_all_reports_every_component():
    verdict = json.dumps(dict(zip(DIMENSIONS, [5, 4, 4, 4, 3, 4])))
    model = fake_model(ScriptedFakeBackend([verdict]))
    r = asyncio.run(score_all("Write about 300 words on tea.", prose(300), judge_model=model))
    assert r["length"]["reward"] == 1.0 and r["format"]["format_score"] == 1.0
    s_q = (100 + 75 * 4 + 50) / 6
    assert r["quality"]["s_q"] == pytest.approx(s_q, abs=1e-3)
    assert r["combined"] == pytest.approx((1.0 + 1.0 + s_q / 100) / 3, abs=1e-5)
    assert r["left_out"] == {"rm": "no reward model"} and not r["injection"]["flagged"]


def test_missing_verdict_and_no_length_are_left_out_not_guessed():
    model = fake_model(ScriptedFakeBackend(["x", "y", "z"]))
    r = asyncio.run(score_all("Write an essay about tea.", looping(300), judge_model=model))
    assert r["quality"]["missing"] and r["rewards"]["quality"] is None and r["rewards"]["length"] is None
    assert r["combined"] == 0.0 and r["weights_used"] == {"format": 1.0}  # only format exists: a loop scores 0
    assert "missing" in r["left_out"]["quality"] and "no length" in r["left_out"]["length"]


def test_config_keys_are_checked(tmp_path):
    assert load_reward_config("configs/rewards/default.yaml") == RewardConfig()
    with pytest.raises(UserError, match=r"unknown key `weights.lenght` \(did you mean `weights.length`\?\)"):
        reward_config_from_dict({"weights": {"lenght": 1}})
    with pytest.raises(UserError, match="must be >= 0"):
        reward_config_from_dict({"weights": {"format": -1}})
    with pytest.raises(UserError, match="length_cap"):
        reward_config_from_dict({"length_cap": 1})
    bad = tmp_path / "r.yaml"
    bad.write_text("weights: [1, 2\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_reward_config(bad)
