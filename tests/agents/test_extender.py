"""The extender's split/keep rules (as the original), its prompts and its length control."""

from longform.agents import extender as ext
from longform.agents.extender import ExtenderSettings

from longform.text import count_words
from tests.fakes import prose


def test_split_at_paragraphs_then_lines_then_sentences():
    paras = "\n\n".join(f"Paragraph {i} is here." for i in range(6))
    assert ext.split_blocks(paras) == [f"Paragraph {i} is here." for i in range(6)]
    assert ext.first_half(paras) == "\n\n".join(f"Paragraph {i} is here." for i in range(3))
    # two paragraphs or fewer: split at line breaks
    lines = "Line one.\nLine two.\nLine three.\n\nLine four."
    assert ext.split_blocks(lines) == ["Line one.", "Line two.", "Line three.", "Line four."]
    assert ext.first_half(lines) == "Line one.\n\nLine two."
    # one line: at sentence ends, so a one-paragraph answer still has a first half
    one = "One. Two. Three. Four."
    assert ext.first_half(one) == "One.\n\nTwo."
    assert ext.first_half("Only one sentence.") == "Only one sentence."


def test_keep_head_keeps_two_thirds_of_paragraphs():
    paras = [f"Part {i} of the text." for i in range(6)]
    assert ext.keep_head("\n\n".join(paras)) == "\n\n".join(paras[:4])
    assert ext.keep_head("\n\n".join(paras[:3])) == "\n\n".join(paras[:2])


def test_keep_head_falls_back_to_sentences():
    text = "One here. Two here. Three here.\n\nFour here. Five here. Six here."
    assert ext.keep_head(text) == "One here. Two here. Three here.\n\nFour here."
    assert ext.keep_head("Just one.") == ""


def test_outline_is_bounded_to_the_latter_part():
    text = prose(600)
    assert ext.outline_for(text, 1000, "en") == text
    cut = ext.outline_for(text, 200, "en")
    assert cut.startswith("[…]") and count_words(cut) <= 200
    assert text.endswith(cut.split("\n\n", 1)[1])


def test_outline_budget_follows_the_window():
    s = ExtenderSettings()
    assert ext.outline_budget_words(8192, "en", s) > ext.outline_budget_words(4096, "en", s)
    assert ext.outline_budget_words(1024, "en", s) == 50


def test_round_goal_grows_and_stops_at_target():
    s = ExtenderSettings(growth=2.0, min_gain_words=100)
    assert ext.round_goal(300, 2000, s) == 600
    assert ext.round_goal(30, 2000, s) == 130
    assert ext.round_goal(1500, 2000, s) == 2000
    assert ext.round_goal(2500, 2000, s) == 2501  # never below "longer than now"


def test_after_continue_bounds():
    s = ExtenderSettings(max_round_calls=3, min_progress_words=15, max_stalls=2)
    d = ext.after_continue(prose(100), prose(100), 150, 1, 0, s)
    assert d["event"] == "goal" and d["next"] == "judge"
    d = ext.after_continue(prose(100), prose(50), 400, 1, 0, s)
    assert d["event"] == "continue" and d["next"] == "continue"
    assert ext.after_continue(prose(100), prose(50), 400, 3, 0, s)["event"] == "max_calls"
    d = ext.after_continue(prose(100), "Tiny.", 400, 1, 0, s)
    assert d["event"] == "retry" and d["stalls"] == 1 and d["next"] == "continue"
    assert ext.after_continue(prose(100), "Tiny.", 400, 2, 2, s)["event"] == "stalled"
    assert ext.after_continue(prose(100), prose(50), 400, 2, 2, s)["stalls"] == 0


def test_finish_round_keeps_only_longer_passing_text():
    s = ExtenderSettings()
    cur = prose(200)
    assert ext.finish_round(cur, prose(400), 2000, "en", s)["kept"]
    f = ext.finish_round(cur, prose(150), 2000, "en", s)
    assert not f["kept"] and f["reasons"] == ["not_longer"]
    rep = "the river ran past the old mill and the stone bridge. "
    f = ext.finish_round(cur, prose(300) + "\n\n" + rep + rep, 2000, "en", s)
    assert not f["kept"] and "repeated_ngram" in f["reasons"]


def test_finish_round_cuts_past_the_target_and_drops_a_dangling_sentence():
    s = ExtenderSettings(over_tolerance=0.2)
    f = ext.finish_round(prose(100), prose(3000), 1000, "en", s)
    assert f["cut"] and 900 <= f["words"] <= 1100 and f["kept"]
    f = ext.finish_round(prose(100), prose(300) + " and then", 1000, "en", s)
    assert f["kept"] and f["text"].endswith(".")


def test_continue_messages_put_the_draft_as_assistant_turn():
    m = ext.continue_messages("Write about tea.", "OUTLINE TEXT", "", 300, "en")
    assert [x["role"] for x in m] == ["system", "user"] and "OUTLINE TEXT" in m[1]["content"]
    m = ext.continue_messages("Write about tea.", "OUTLINE TEXT", prose(500), 300, "en")
    assert [x["role"] for x in m] == ["system", "user", "assistant", "user"]
    assert count_words(m[2]["content"]) <= ExtenderSettings().continuation_tail_words
    assert "300" in m[3]["content"]
    zh = ext.continue_messages("写一篇关于茶的文章。", "大纲", "已写的内容。", 300, "zh")
    assert "原始大纲" in zh[1]["content"] and "300" in zh[3]["content"]


def test_training_messages_drop_about_a_fifth_of_the_lines_deterministically():
    initial = "\n".join(f"Line {i} of the first answer." for i in range(50))
    a = ext.training_messages("Write.", initial, "EXTENDED", "en", seed=7)
    b = ext.training_messages("Write.", initial, "EXTENDED", "en", seed=7)
    assert a == b and a[-1] == {"role": "assistant", "content": "EXTENDED"}
    kept = [ln for ln in a[1]["content"].split("\n") if ln.startswith("Line ")]
    assert 25 <= len(kept) < 50
    assert a[:2] == ext.expand_messages("Write.", "\n\n".join(kept), "en")


def test_rest_pieces_follow_the_first_half_in_order():
    paras = [f"Paragraph {i} has a few words in it." for i in range(10)]  # 8 words each
    text = "\n\n".join(paras)
    pieces = ext.rest_pieces(text, 16)
    assert pieces == ["\n\n".join(paras[5:7]), "\n\n".join(paras[7:9]), paras[9]]
    assert ext.first_half(text) + "\n\n" + "\n\n".join(pieces) == text
    long_block = " ".join(f"Sentence {i} is here." for i in range(12))  # one line: split at sentences
    assert all(count_words(p) <= 9 for p in ext.rest_pieces(long_block, 9))
    assert ext.rest_pieces("Only one sentence.", 100) == []


def test_after_continue_moves_through_the_pieces():
    s = ExtenderSettings(max_round_calls=10, min_progress_words=15, max_stalls=1)
    d = ext.after_continue(prose(100), prose(50), 1000, 1, 0, s, pieces_left=2)
    assert d["event"] == "continue" and d["advance"]
    d = ext.after_continue(prose(100), prose(50), 1000, 1, 0, s, pieces_left=0)
    assert d["event"] == "outline_done" and d["next"] == "judge"
    d = ext.after_continue(prose(100), "Tiny.", 1000, 1, 0, s, pieces_left=2)
    assert d["event"] == "retry" and not d["advance"]  # the same piece again, new seed
    d = ext.after_continue(prose(100), "Tiny.", 1000, 2, 1, s, pieces_left=2)
    assert d["event"] == "skip" and d["advance"] and d["stalls"] == 0
    assert ext.after_continue(prose(100), "Tiny.", 1000, 2, 1, s, pieces_left=0)["event"] == "stalled"
