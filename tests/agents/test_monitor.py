"""Monitor: the program keeps a unit within ±10% of its budget, with bounded continuations."""

from longform.agents import monitor
from longform.agents.section_writer import SectionSettings

from longform.text import count_words
from tests.fakes import prose


def test_fit_length_cuts_at_a_sentence_inside_the_tolerance():
    text = prose(200)  # ten-word sentences, paragraphs of fifty words
    for budget in (60, 95, 104, 133):
        cut, truncated = monitor.fit_length(text, budget)
        assert truncated and abs(count_words(cut) - budget) <= 0.1 * budget, (budget, count_words(cut))
        assert cut.endswith(".")
    same, truncated = monitor.fit_length(prose(105), 100)
    assert not truncated and count_words(same) == 105


def test_short_unit_continues_until_enough_then_settles():
    s = SectionSettings()
    u = monitor.new_unit(3, 200, 1.35)
    u = monitor.after_chunk(u, prose(90), s)
    assert u["status"] == "write" and u["continuations"] == 1
    u = monitor.after_chunk(u, prose(150), s)
    assert u["status"] == "written" and monitor.within(u) and u["truncated"]


def test_continuations_are_bounded():
    s = SectionSettings()
    u = monitor.new_unit(1, 400, 1.35)
    calls = 0
    while u["status"] == "write":
        u = monitor.after_chunk(u, prose(20), s)
        calls += 1
        assert calls <= 1 + monitor.continuation_limit(400, s)
    assert u["status"] == "written" and u["events"][-1] == "max_continuations"


def test_long_units_get_more_continuations():
    s = SectionSettings()
    assert monitor.continuation_limit(100, s) == s.max_continuations
    assert monitor.continuation_limit(3000, s) == 7


def test_without_a_sentence_end_near_the_budget_the_cheaper_side_wins():
    long_sentences = " ".join(["This is a very long sentence that goes on " + " ".join(f"w{i}" for i in range(40)) + "."] * 3)
    # sentence ends at 49 and 98 words: for 60, 49 is cheaper (0.11 < 0.21); for 70, 98 is (0.13 < 0.21)
    assert count_words(monitor.fit_length(long_sentences, 60)[0]) == 49
    assert count_words(monitor.fit_length(long_sentences, 70)[0]) == 98


def test_balance_gives_the_missing_words_to_the_shortest_units_in_call_sized_shares():
    s = SectionSettings()
    units = {str(k): {**monitor.new_unit(k, 48, 1.35), "status": "written", "words": w, "text": prose(w), "events": [e]}
             for k, w, e in [(1, 48, "enough"), (2, 23, "enough"), (3, 20, "stalled"), (4, 36, "enough"), (5, 47, "enough")]}
    items = [{"heading": f"Week {k}"} for k in range(1, 6)]
    out = monitor.balance(units, items, 300, s)
    # 300 - 174 words - 10 of headings = 116 missing: +24 each to the shortest first; the stalled unit is left out
    assert list(out) == ["2", "4", "5", "1"]
    assert out["2"]["budget"] == 23 + 24 and out["2"]["status"] == "write" and out["2"]["planned_budget"] == 48
    assert monitor.balance(units, items, 190, s) == {}  # within 5% of the target: nothing to do
