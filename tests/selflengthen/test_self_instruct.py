"""Self-instruct's program checks and proposal cleaning (no model)."""

from longform.selflengthen.self_instruct import clean_proposal, norm, program_check


def test_clean_proposal_drops_labels_and_quotes():
    assert clean_proposal("Instruction 3: Write a long essay about tea.") == "Write a long essay about tea."
    assert clean_proposal('**Instructions:** "Write a guide to Rome."\n\nMore text.') == "Write a guide to Rome."
    assert clean_proposal("指令3：请写一篇关于茶的长文。") == "请写一篇关于茶的长文。"


def test_program_check_keeps_instructions_that_call_for_long_output():
    pool = {norm("Write a history of tea.")}
    kw = {"min_words": 4, "max_words": 60, "min_stated_words": 800}
    assert program_check("Write a detailed history of the bicycle and its effect on cities.", pool, **kw) is None
    assert program_check("Write tea.", pool, **kw) == "too_short"
    assert program_check("Write a history of tea!", pool, **kw) == "duplicate"
    assert program_check("Write a 200-word note about the bicycle and cities.", pool, **kw) == "states_short_length"
    assert program_check("Write a 3000-word history of the bicycle and cities.", pool, **kw) is None
    assert program_check("word " * 61, pool, **kw) == "too_long"
    assert program_check("Here is a rewritten version of the instructions for a tutorial.", pool, **kw) == "meta_text"
