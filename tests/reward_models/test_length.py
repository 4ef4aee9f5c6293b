"""Length rewards, with values computed by hand."""

import pytest
from longform.reward_models.length import length_components, length_reward, range_reward, resolve_target

from longform.lengths import make_spec
from longform.scores import length_score, longen_score


@pytest.mark.parametrize(
    "words, expected",
    [
        (800, 1.0), (1000, 1.0), (1200, 1.0),  # inside [800, 1200]
        (400, 0.5), (600, 0.75), (0, 0.0),  # below: words / lo
        (1800, 0.5),  # above: (2 * 1200 - 1800) / 1200
        (2100, 0.25), (2400, 0.0), (5000, 0.0),
    ],
)
def test_range_reward_by_hand(words, expected):
    assert range_reward(words, 800, 1200) == pytest.approx(expected)


def test_range_reward_cap_is_configurable():
    assert range_reward(1500, 800, 1000, cap=1.5) == pytest.approx(0.0)  # 0 at 1.5 x 1000
    assert range_reward(1250, 800, 1000, cap=1.5) == pytest.approx(0.5)  # (1500 - 1250) / 500
    assert range_reward(1250, 800, 1000, cap=3.0) == pytest.approx(0.875)  # (3000 - 1250) / 2000
    with pytest.raises(ValueError):
        range_reward(100, 800, 1000, cap=1.0)
    with pytest.raises(ValueError):
        range_reward(100, 0, 1000)


def test_s_l_and_longen_by_hand():
    # S_l: over -> 100 * (1 - (a/r - 1) / 3); under -> 100 * (1 - (r/a - 1) / 2)
    assert length_score(2000, 2600) == pytest.approx(100 * (1 - 0.3 / 3))  # 90.0
    assert length_score(2000, 1600) == pytest.approx(100 * (1 - 0.25 / 2))  # 87.5
    # LonGen: below lo -> 2a/lo - 1; above hi -> 3 - 2a/hi
    assert longen_score(1800, 2000, 3000) == pytest.approx(0.8)
    assert longen_score(3300, 2000, 3000) == pytest.approx(0.8)


def test_components_from_the_instruction():
    text = " ".join(["word"] * 2600)
    c = length_components("Write at least 2000 words about tea.", text)
    # at least 2000: interval [2000, 3000], aim 2500; S_l against 2500: 100 * (1 - 0.04 / 3)
    assert (c["kind"], c["lo"], c["hi"], c["target_words"], c["source"]) == ("at_least", 2000, 3000, 2500, "instruction")
    assert c["s_l"] == pytest.approx(98.6667, abs=1e-3) and c["longen"] == 1.0 and c["reward"] == 1.0


def test_target_from_the_record_wins_and_no_length_is_none():
    text = " ".join(["word"] * 300)
    assert length_reward("Write about 2000 words.", text, target=300) == 1.0  # about 300: [240, 360]
    assert length_reward("Write an essay.", text, target=(600, 900)) == pytest.approx(0.5)
    assert length_reward("Write an essay.", text, target=make_spec("at_most", 250)) == pytest.approx(0.8)  # (500-300)/250
    assert length_reward("Write an essay.", text) is None
    c = length_components("Write an essay.", text)
    assert c["reward"] is None and c["s_l"] is None and c["source"].startswith("none")
    assert resolve_target("写一篇不少于3000字的文章。").kind == "at_least"


def test_chinese_counts_characters():
    text = "茶" * 2500
    assert length_reward("写一篇约2500字的文章。", text) == 1.0
    assert length_components("写一篇约2500字的文章。", text)["s_l"] == 100.0
