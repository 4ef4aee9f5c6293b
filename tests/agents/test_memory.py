from longform.agents import memory

from longform.text import count_words
from tests.fakes import prose


def test_memory_stays_flat_as_sections_accumulate():
    mem = memory.empty_memory()
    sizes = []
    for i in range(40):
        mem = memory.remember(mem, f"Section {i}", prose(400), keep_sections=3, digest_words=40, tail_len=120)
        sizes.append(count_words(memory.summary_text(mem)) + count_words(mem["tail"]))
    assert len(mem["digests"]) == 3
    assert max(sizes) <= 3 * (40 + 4) + 120
    assert sizes[-1] <= sizes[5] + 10  # no growth with the manuscript


def test_digest_has_title_first_and_last_sentence():
    text = "It began in spring. Then many things happened. It ended in winter."
    d = memory.digest_line(memory.digest("Seasons", text))
    assert d.startswith("Seasons: It began in spring.") and "It ended in winter." in d


def test_the_newest_digest_leaves_its_last_sentence_to_the_tail():
    mem = memory.remember(memory.empty_memory(), "A", "Alpha opens here. Alpha has a middle. Alpha closes here.")
    mem = memory.remember(mem, "B", "Beta opens here. Beta has a middle. Beta closes here.")
    summary = memory.summary_text(mem)
    assert "Alpha closes here." in summary  # an older section keeps both ends
    assert "Beta opens here." in summary and "Beta closes here." not in summary
    assert mem["tail"].endswith("Beta closes here.")


def test_tail_is_end_of_last_section():
    mem = memory.remember(memory.empty_memory(), "A", prose(300, start=0))
    assert mem["tail"].endswith("w299.")
    assert count_words(mem["tail"]) <= memory.DEFAULT_TAIL_WORDS
