import asyncio
import math

from longform.agents import section_writer as sw
from longform.agents.section_writer import SectionSettings

from longform.text import count_words, has_degenerate_loop
from tests.fakes import looping, prose

PLAN = [{"title": f"Part {k}", "main_point": f"Point {k}.", "words": 400} for k in range(5)]


def test_budget_absorbs_shortfall_and_overshoot():
    on_track = sw.section_budget(PLAN, 2, 800, 2000)
    behind = sw.section_budget(PLAN, 2, 500, 2000)
    ahead = sw.section_budget(PLAN, 2, 1100, 2000)
    assert behind > on_track > ahead
    assert on_track == 400 - count_words("Part 2")
    assert sw.section_budget(PLAN, 4, 1900, 2000) == 100 - 2  # the last one takes the rest
    assert sw.section_budget(PLAN, 4, 2500, 2000) == 30  # never below the floor


def test_max_tokens_bounded():
    s = SectionSettings(max_call_tokens=1024, min_call_tokens=48)
    assert sw.max_tokens_for(10_000, 1.4, s) == 1024
    assert sw.max_tokens_for(0, 1.4, s) == 48
    assert 48 < sw.max_tokens_for(200, 1.4, s) < 1024


def test_decide_continue_enough_stalled_max():
    s = SectionSettings(max_continuations=2, short_tolerance=0.1)
    d = sw.decide_after_chunk(draft="", chunk=prose(100), budget=400, continuations=0, regenerations=0, is_last=False, settings=s)
    assert d["event"] == "continue" and d["next"] == "write" and d["continuations"] == 1
    d = sw.decide_after_chunk(draft=prose(300), chunk=prose(70), budget=400, continuations=1, regenerations=0, is_last=False, settings=s)
    assert d["event"] == "enough" and d["next"] == "finish"
    draft = prose(100)
    d = sw.decide_after_chunk(draft=draft, chunk="Too short.", budget=400, continuations=1, regenerations=0, is_last=False, settings=s)
    assert d["event"] == "regenerate" and d["next"] == "write" and d["draft"] == draft
    d = sw.decide_after_chunk(draft=prose(100), chunk="Too short.", budget=400, continuations=1, regenerations=2, is_last=False, settings=s)
    assert d["event"] == "stalled" and d["next"] == "finish"
    d = sw.decide_after_chunk(draft=prose(100), chunk=prose(50), budget=400, continuations=2, regenerations=0, is_last=False, settings=s)
    assert d["event"] == "max_continuations" and d["next"] == "finish"
    # the last section may continue longer
    d = sw.decide_after_chunk(draft=prose(100), chunk=prose(50), budget=400, continuations=2, regenerations=0, is_last=True, settings=s)
    assert d["event"] == "continue"


def test_decide_regenerates_loops_then_cuts():
    s = SectionSettings(max_regenerations=2)
    draft = prose(120)
    d = sw.decide_after_chunk(draft=draft, chunk=looping(300), budget=400, continuations=0, regenerations=0, is_last=False, settings=s)
    assert d["event"] == "regenerate" and d["draft"] == draft and d["regenerations"] == 1
    chunk = prose(60) + "\n\n" + looping(300)
    d = sw.decide_after_chunk(draft=draft, chunk=chunk, budget=400, continuations=0, regenerations=2, is_last=False, settings=s)
    assert d["event"] == "loop_cut" and d["next"] == "write"  # still short: go on after the cut
    assert not has_degenerate_loop(d["draft"])
    assert count_words(d["draft"]) >= 120 + 60
    d = sw.decide_after_chunk(draft=draft, chunk=chunk, budget=400, continuations=3, regenerations=2, is_last=False, settings=s)
    assert d["event"] == "loop_cut" and d["next"] == "finish"  # no continuations left
    d = sw.decide_after_chunk(draft=prose(350), chunk=looping(300), budget=400, continuations=0, regenerations=2,
                              is_last=False, settings=s)
    assert d["event"] == "loop_cut" and d["next"] == "finish"  # long enough


def test_finalize_cuts_long_at_boundary_and_trims_tail():
    text = prose(700) + " And then an unfinished"
    out, truncated = sw.finalize_section(text, 400)
    assert truncated and 320 <= count_words(out) <= 400
    assert out.endswith(".")
    out, truncated = sw.finalize_section(prose(400) + " and a dangling", 400)
    assert not truncated and out.endswith(".")


def test_clean_chunk_strips_heading_lines():
    assert sw.clean_chunk("## Part 2\n\nThe text.", "Part 2") == "The text."
    assert sw.clean_chunk("**The Origins**\nThe text.", "Origins") == "The text."
    assert sw.clean_chunk("Section 3: Origins\n\nThe text.") == "The text."
    # headings inside a chunk go too: the program writes the manuscript's headings
    assert sw.clean_chunk("The text stays.\n## Inner\n\nSection 2: Aria (30 words)\nMore text.") == "The text stays.\n\nMore text."


def test_prompt_prefix_is_byte_identical_and_memory_last():
    kw = {"instruction": "Write about Rome.", "plan": PLAN, "target_words": 2000, "lang": "en"}
    a = sw.section_messages(index=0, budget=400, memory={"digests": [], "tail": ""}, **kw)
    b = sw.section_messages(index=3, budget=380, memory={"digests": [{"title": "Part 2", "first": "x", "last": ""}], "tail": "the end."}, **kw)
    c = sw.section_messages(index=3, budget=380, memory={"digests": [{"title": "Part 2", "first": "x", "last": ""}], "tail": "the end."}, draft=prose(100),
                            words_needed=280, **kw)
    assert a[0] == b[0] == c[0]  # system: role + instruction + plan, identical for every call
    assert "Write about Rome." in a[0]["content"] and "Part 4" in a[0]["content"]
    assert c[:2] == b  # a continuation extends the section's first prompt
    assert c[2]["role"] == "assistant" and c[3]["role"] == "user"
    assert b[1]["content"].index("the end.") < b[1]["content"].index('"Part 3"')


def test_chinese_prompts():
    plan = [{"title": "引言", "main_point": "介绍。", "words": 300}]
    m = sw.section_messages(instruction="写一篇文章", plan=plan, target_words=300, index=0, budget=300,
                            memory={"digests": [], "tail": ""}, lang="zh")
    assert "中文" in m[1]["content"] and "写一篇文章" in m[0]["content"]


def test_call_seeds_distinct_and_none_stays_none():
    seeds = {sw.call_seed(0, s, c, r) for s in range(30) for c in range(5) for r in range(3)}
    assert len(seeds) == 30 * 5 * 3
    assert sw.call_seed(None, 1, 2, 3) is None


def test_outline_collapses_split_parts_and_stays_short():
    from longform.agents import planner

    plan = planner.normalize_plan([{"title": "Origins of the very long and winding road of the Roman state and its people",
                                    "main_point": "a", "words": 1}, {"title": "Empire", "main_point": "b", "words": 1}],
                                  10000, 25)
    rows = sw.outline(plan)
    assert [r["label"] for r in rows] == ["1-13", "14-25"] or len(rows) == 2
    assert rows[0]["title"].endswith("…") and count_words(rows[0]["title"]) <= sw.OUTLINE_TITLE_WORDS
    msgs = sw.section_messages(instruction="Write.", plan=plan, target_words=10000, index=3, budget=400,
                               memory={"digests": [], "tail": ""}, lang="en")
    assert "- Origins" in msgs[0]["content"] and "(continued" not in msgs[0]["content"]
    assert msgs[1]["content"].count("Origins") == 1 and "Go on with" in msgs[1]["content"]
    assert sw.outline([{"title": "A"}, {"title": "B"}]) == [{"label": "1", "title": "A"}, {"label": "2", "title": "B"}]


def test_remove_repeats_drops_restated_and_self_describing_sentences():
    earlier = ["The tea clippers raced from Fuzhou to London every spring with the first harvest."]
    chunk = ("The tea clippers raced from Fuzhou to London every spring with the new leaves. "
             "Sailors bet their wages on the fastest hull. This section explores the races in detail.\n\n"
             "Sailors bet their wages on the fastest hull. Cargo insurance rose each year.")
    out, dropped = sw.remove_repeats(chunk, sw.written_ngrams(earlier))
    assert out == "Sailors bet their wages on the fastest hull.\n\nCargo insurance rose each year."
    assert dropped == count_words(chunk) - count_words(out)
    # nothing seen, nothing about the text: unchanged
    text = prose(60, start=0)
    assert sw.remove_repeats(text, set()) == (text, 0)


def test_finalize_keeps_overshoot_of_a_middle_section_within_tolerance():
    text = prose(600, start=0).replace("\n\n", " ")  # one paragraph: cuts fall at sentence ends
    last, cut_last = sw.finalize_section(text, 400)
    middle, cut_middle = sw.finalize_section(text, 400, is_last=False)
    assert cut_last and cut_middle
    assert count_words(last) <= 400 < count_words(middle) <= 440


def test_write_call_passes_the_manuscript_as_history_and_penalties():
    from tests.fakes import ScriptedFakeBackend, fake_model

    backend = ScriptedFakeBackend(["Some prose."])
    settings = sw.SectionSettings()
    asyncio.run(sw.write_call(fake_model(backend), [{"role": "user", "content": "x"}], words_needed=100,
                              tokens_per_word=1.35, seed=1, tag="t", settings=settings, history=("One.", "", "Two.")))
    params = backend.requests[0][1]
    assert params.history == ("One.", "Two.") and params.no_repeat_ngram == settings.no_repeat_ngram
    assert params.frequency_penalty == settings.frequency_penalty and params.presence_penalty == settings.presence_penalty
    assert params.max_tokens == math.ceil(100 * 1.35 * settings.max_tokens_margin) + 16


def test_min_tokens_floor_follows_the_words_needed_and_stays_under_max():
    from longform.agents.section_writer import SectionSettings, max_tokens_for, min_tokens_for

    s = SectionSettings()
    mx = max_tokens_for(400, 1.2, s)
    assert min_tokens_for(400, 1.2, mx, s) == int(400 * 1.2 * s.min_tokens_share)
    assert min_tokens_for(400, 1.2, 100, s) == 84  # never within 16 tokens of max_tokens
    assert min_tokens_for(20, 1.2, max_tokens_for(20, 1.2, s), s) is None  # too small to matter
    assert min_tokens_for(400, 1.2, mx, SectionSettings(min_tokens_share=None)) is None
