"""The one length parser (longform.lengths) on English and Chinese phrasings, and on the benchmarks."""

import json
from pathlib import Path

import pytest

from longform.lengths import LengthSpec, make_spec, parse_length, spec_from_target
from longform.scores import interval_for_record

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


@pytest.mark.parametrize(
    "text, kind, lo, hi",
    [
        # English: about
        ("Write about 3,000 words on the history of tea.", "about", 2400, 3600),
        ("Write a 3000-word essay on tea.", "about", 2400, 3600),
        ("Write a 10,000-word history of tea.", "about", 8000, 12000),
        ("Write a 3k word report.", "about", 2400, 3600),
        ("Write 3k words on rivers.", "about", 2400, 3600),
        ("Write a 1.5k-word story.", "about", 1200, 1800),
        ("Write roughly 800 words about owls.", "about", 640, 960),
        ("Write a thousand-word essay on bees.", "about", 800, 1200),
        ("Write two thousand five hundred words about the sea.", "about", 2000, 3000),
        ("Write one hundred and fifty words about frost.", "about", 120, 180),
        ("Limit your response to around 2000 words.", "about", 1600, 2400),
        ("Cover it all within approximately 6000 words.", "about", 4800, 7200),
        # English: at least
        ("Write at least 2,000 words on tea.", "at_least", 2000, 3000),
        ("Write a story of no fewer than 1,200 words.", "at_least", 1200, 1800),
        ("Ensure this comparison extends beyond 2000 words.", "at_least", 2000, 3000),
        ("Make sure the story exceeds 5000 words.", "at_least", 5000, 7500),
        ("The essay should be 1500 words or more.", "at_least", 1500, 2250),
        ("Write 2000+ words about chess.", "at_least", 2000, 3000),
        ("**Word Count:** The paper should be more than 7,000 words.", "at_least", 7000, 10500),
        # English: at most
        ("Write no more than 500 words about rain.", "at_most", 250, 500),
        ("Keep it under 200 words.", "at_most", 100, 200),
        ("It should not exceed 3000 words.", "at_most", 1500, 3000),
        ("Write the script within a 5000-word limit.", "at_most", 2500, 5000),
        ("Write a poem of 300 words or fewer.", "at_most", 150, 300),
        # English: range
        ("Write between 800 and 1200 words explaining sourdough.", "range", 800, 1200),
        ("Write 300-500 words about bees.", "range", 300, 500),
        ("Write 2,000 to 3,000 words on jazz.", "range", 2000, 3000),
        # Chinese
        ("请写一篇两千字左右的散文。", "about", 1600, 2400),
        ("写一篇约2500字的报告。", "about", 2000, 3000),
        ("模仿《史记》风格，撰写《笑川列传》约四千字。", "about", 3200, 4800),
        ("请写一篇1万字的小说。", "about", 8000, 12000),
        ("字数在1.5万字左右。", "about", 12000, 18000),
        ("写一篇300词的英语作文。", "about", 240, 360),
        ("并确保内容在大约5000字以内。", "about", 4000, 6000),
        ("请写一篇不少于3000字的报告。", "at_least", 3000, 4500),
        ("确保整篇小说超过四千字。", "at_least", 4000, 6000),
        ("写一篇3000多字的文章。", "at_least", 3000, 4500),
        ("全文5千字以上。", "at_least", 5000, 7500),
        ("字数不超过600字。", "at_most", 300, 600),
        ("字数请控制在5000以内。", "at_most", 2500, 5000),
        ("一篇文章，字数不能超过7000字。", "at_most", 3500, 7000),
        ("写500字以内的短文。", "at_most", 250, 500),
        ("字数在2000到3000字之间。", "range", 2000, 3000),
        ("写一篇4000字至5000字的文章。", "range", 4000, 5000),
        ("写一篇三四千字的小说。", "range", 3000, 4000),
    ],
)
def test_parse_length(text, kind, lo, hi):
    spec = parse_length(text)
    assert spec is not None, text
    assert (spec.kind, spec.lo, spec.hi) == (kind, lo, hi), (text, spec)
    assert spec.target_words == round((lo + hi) / 2)


@pytest.mark.parametrize(
    "text",
    [
        "Write a short story about a lighthouse keeper.",
        "写一篇关于秋天的散文。",
        "Write a long essay about tea.",
        "Write five poems of 100 words each.",  # per-unit lengths are not the total
        "每段200字，共写5段。",
        "Write a tweet of at most 280 characters.",  # characters are not words
        "Write a 10-page report on coal.",  # pages are not words
        "Answer in one word.",  # below 10: not a length to write to
        "十字路口的故事。",
        "一字一句地写一封信。",
        "Write about the 1,000 days of Anne Boleyn.",
        "Tell the story in a few hundred words.",  # no number: not a guess
        "写一篇几千字的文章。",
        "写一篇数千字的报告。",
        "",
    ],
)
def test_no_stated_length_is_none(text):
    assert parse_length(text) is None


def test_target_is_the_middle_of_the_interval():
    assert parse_length("Write at least 2000 words.").target_words == 2500  # not 2000
    assert parse_length("Write no more than 2000 words.").target_words == 1500
    assert parse_length("Write about 2000 words.").target_words == 2000
    assert parse_length("Write 1000-2000 words.").target_words == 1500


def test_first_stated_length_counts_unless_another_states_the_total():
    assert parse_length("Write a 3000-word essay; the introduction about 200 words.").length == 3000
    text = "Sections: Overview (max 250 words), Method, Results. Word count: at least 5000 words."
    assert parse_length(text).kind == "at_least" and parse_length(text).length == 5000


def test_spec_round_trip_and_targets():
    spec = make_spec("at_least", 400)
    assert spec == LengthSpec("at_least", 400, 400.0, 600.0, 500)
    assert LengthSpec.from_dict(spec.to_dict()) == spec
    assert spec_from_target(300) == make_spec("about", 300)
    assert spec_from_target((200, 400)).kind == "range" and spec_from_target((200, 400)).target_words == 300
    assert spec_from_target({"kind": "range", "length": 300, "lo": 200, "hi": 400}) == make_spec("range", lo=200, hi=400)
    with pytest.raises(ValueError):
        spec_from_target("lots")
    with pytest.raises(ValueError):
        make_spec("roughly", 100)


@pytest.mark.skipif(not (BENCH / "longen.jsonl").exists(), reason="shared benchmark data not present")
def test_longen_queries_agree_with_their_labels():
    """LonGen's 240 queries carry their constraint as a label. The parser must read it from the text:
    234 agree exactly; of the other 6, 3 state no length in the text (None, not a guess) and 3 state a
    different one than their label ("a 7000-word analysis" labelled "more than 7000 words")."""
    kinds = {"about": "about", "above": "at_least", "below": "at_most", "range": "range"}
    rows = [json.loads(line) for line in (BENCH / "longen.jsonl").read_text(encoding="utf-8").splitlines() if line]
    agree = none = 0
    for row in rows:
        spec = parse_length(row["query"])
        lo, hi = interval_for_record(row)
        none += spec is None
        agree += spec is not None and (spec.kind, spec.lo, spec.hi) == (kinds[row["type"]], lo, hi)
    assert len(rows) == 240 and agree >= 234 and none <= 3, (agree, none)


@pytest.mark.skipif(not (BENCH / "longbench_write.jsonl").exists(), reason="shared benchmark data not present")
def test_longbench_write_prompts_never_get_a_wrong_length():
    """Every LongBench-Write / LongWrite-Ruler prompt that states a length is read as its `length`
    field; the few that state none, or only per-part lengths ("每篇400字左右"), give None."""
    rows = []
    for name in ("longbench_write.jsonl", "longwrite_ruler.jsonl"):
        rows += [json.loads(line) for line in (BENCH / name).read_text(encoding="utf-8").splitlines() if line]
    wrong = [(r["prompt"][:80], r["length"], s) for r in rows if (s := parse_length(r["prompt"])) is not None
             and not s.lo <= r["length"] <= s.hi]
    found = sum(1 for r in rows if parse_length(r["prompt"]) is not None)
    assert wrong == [] and found >= 160, (wrong, found)
