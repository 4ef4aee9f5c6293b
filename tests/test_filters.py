import pytest

from longform.dataset_config import FilterConfig
from longform.filters import Deduplicator, check_output
from tests.pipelines.dataset_fakes import prose

CFG = FilterConfig()


def test_clean_output_of_the_right_length_passes():
    text = prose(400, salt=1)
    c = check_output(text, required_words=400, lang="en", cfg=CFG)
    assert c.passed and c.length_score == pytest.approx(100.0) and c.words == 400


@pytest.mark.parametrize("words, passes", [(400, True), (330, True), (280, False), (640, True), (700, False)])
def test_length_score_threshold_80(words, passes):
    # S_l >= 80 <=> 0.714 L <= words <= 1.6 L
    c = check_output(prose(words, salt=2), required_words=400, lang="en", cfg=CFG)
    assert ("length_score" not in c.reasons) == passes


def test_loop_is_repetition():
    text = prose(100, salt=3) + " " + " ".join(["The bell rang again over the quiet water tonight."] * 30)
    c = check_output(text, required_words=len(text.split()), lang="en", cfg=CFG)
    assert "repetition" in c.reasons and c.loop


def test_truncated_ending():
    text = prose(300, salt=4) + " and then the captain opened the"
    c = check_output(text, required_words=300, lang="en", cfg=CFG)
    assert c.reasons == ["truncated"]
    off = FilterConfig(require_clean_ending=False)
    assert check_output(text, required_words=300, lang="en", cfg=off).passed


def test_wrong_language():
    c = check_output(prose(300, salt=5), required_words=300, lang="zh", cfg=CFG)
    assert "wrong_language" in c.reasons
    zh = prose(300, salt=5, lang="zh")
    assert check_output(zh, required_words=300, lang="zh", cfg=CFG).passed


def test_empty_and_short():
    assert check_output("", required_words=300, lang="en", cfg=CFG).reasons[:2] == ["too_short", "length_score"]
    assert "too_short" in check_output("Yes.", required_words=3, lang="en", cfg=CFG).reasons


def test_exact_and_near_duplicates():
    d = Deduplicator(CFG)
    a = prose(400, salt=10)
    assert d.check("a", a) == (None, None)
    assert d.check("b", "  " + a.upper() + " ") == ("exact_duplicate", "a")
    words = a.split()
    words[200] = "zebra"
    words[300] = "xylophone"
    assert d.check("c", " ".join(words)) == ("near_duplicate", "a")
    assert d.check("d", prose(400, salt=11)) == (None, None)
    off = Deduplicator(FilterConfig(near_dup_threshold=None, exact_dedup=False))
    assert off.check("a", a) == (None, None) and off.check("b", a) == (None, None)


def test_interval_is_scored_and_optionally_enforced():
    text = prose(420, salt=6)  # "at most 400": interval [200, 400], target 300
    c = check_output(text, required_words=300, lang="en", cfg=CFG, interval=(200.0, 400.0))
    assert c.passed and c.length_score >= 80 and c.longen_score == pytest.approx(3 - 2 * 420 / 400)
    strict = FilterConfig(require_interval=True)
    c = check_output(text, required_words=300, lang="en", cfg=strict, interval=(200.0, 400.0))
    assert c.reasons == ["outside_interval"]
