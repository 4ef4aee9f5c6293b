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
