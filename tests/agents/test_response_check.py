"""Self-Lengthen's response check and the cuts that keep a text passing it."""

from longform.agents.response_check import (
    check_response,
    clean_chunk,
    cut_before_repeat,
    drop_repeating_sentences,
    first_repeat,
    meta_lines,
    strip_meta_lines,
    tokens,
)

from tests.fakes import prose, prose_zh


def test_clean_prose_passes():
    assert check_response(prose(300), "en").passed
    assert check_response(prose_zh(300), "zh").passed


def test_unfinished_ending_fails():
    r = check_response(prose(50) + " and then the", "en")
    assert not r.passed and r.reasons == ["unfinished_ending"]
    assert check_response("他走了。" * 1 + "然后", "zh").reasons == ["unfinished_ending"]


def test_closing_quote_after_the_stop_is_a_clean_end():
    assert check_response('She said, "We leave at dawn."', "en").passed


def test_repeated_ten_word_span_fails_and_nine_words_pass():
    ten = "the river ran past the old mill and the stone"
    text = f"First {ten} bridge here. Then {ten} wall there."
    r = check_response(text, "en")
    assert not r.passed and "repeated_ngram" in r.reasons and r.repeated == ten
    nine = "the river ran past the old mill and the"
    assert check_response(f"First {nine} bridge here. Then {nine} wall there.", "en").passed


def test_chinese_uses_thirteen_character_ngrams():
    twelve = "春天的花园里开满了红色的"
    assert check_response(f"我看见{twelve}花。他说{twelve}草。", "zh").passed  # 12 shared + different next char
    thirteen = "春天的花园里开满了红色的花"
    r = check_response(f"我看见{thirteen}。他说{thirteen}。", "zh")
    assert "repeated_ngram" in r.reasons


def test_chinese_tokens_join_ascii_runs():
    toks = [t for t, _ in tokens("用GPT4写作", "zh")]
    assert toks == ["用", "GPT4", "写", "作"]


def test_meta_text_in_first_or_last_lines_fails():
    body = prose(200)
    assert "meta_text" in check_response(f"Here is the revised version of the text:\n\n{body}", "en").reasons
    assert "meta_text" in check_response(f"{body}\n\nI hope this expanded response helps.", "en").reasons
    assert "meta_text" in check_response(f"以下是扩写后的内容：\n\n{prose_zh(100)}", "zh").reasons
    # a word alone is not meta text: an article may talk about software versions
    assert check_response(f"The new version of the app shipped in May.\n\n{body}", "en").passed
    # meta text deep inside the body is not in the checked lines (as in the original)
    lines = [prose(30) for _ in range(8)]
    lines.insert(4, "Here is the revised version.")
    assert meta_lines("\n".join(lines)) == []


def test_strip_meta_lines_drops_whole_lead_and_tail_lines():
    body = prose(100)
    text = f"Sure! Here is the expanded version:\n\n{body}\n\nLet me know if you need more."
    assert strip_meta_lines(text) == body
    assert strip_meta_lines(f"```\n{body}\n```") == body


def test_cut_before_repeat_keeps_the_sentences_before_the_repeat():
    prefix = "The old mill stood by the river and ground wheat for the whole valley. It was loud."
    chunk = ("Children played nearby every summer. Then the old mill stood by the river and ground wheat "
             "for the whole valley again. The end came soon.")
    kept = cut_before_repeat(prefix, chunk, "en")
    assert kept == "Children played nearby every summer."
    assert check_response(prefix + "\n\n" + kept, "en").passed
    assert cut_before_repeat(prefix, "Nothing repeats here at all.", "en") == "Nothing repeats here at all."


def test_first_repeat_counts_only_repeats_reaching_past_after():
    text = "a b c d e f g h i j. a b c d e f g h i j."
    assert first_repeat(text, "en") is not None
    assert first_repeat(text, "en", after=len(text) + 1) is None


def test_clean_chunk_drops_task_talk_and_other_language_lines():
    body = prose(120)
    text = (f"I'd love to continue the enriched text I wrote.\n\n{body}\n"
            "The original outline was a masterful blend of culture and history that adds depth.\n"
            "中全小时，一家电子红城台式翻新的年代。你可以在适当时倒压大骚扑吃了一个晚上。\n\nBest regards,\nJohn")
    out = clean_chunk(text, "en")
    assert out.startswith(body[:40]) and "enriched" not in out and "original outline" not in out
    assert "中全" not in out and "regards" not in out
    # a story's first person is not task talk
    story = "I added salt to the soup and waited. I hope that the rain stops soon, she said."
    assert clean_chunk(story, "en") == story


def test_drop_repeating_sentences_keeps_the_new_ones():
    prefix = "The old mill stood by the river and ground wheat for the whole valley. It was loud."
    chunk = ("Children played nearby every summer. Then the old mill stood by the river and ground wheat "
             "for the whole valley again. The end came soon, and the village moved on.")
    out = drop_repeating_sentences(prefix, chunk, "en")
    assert out == "Children played nearby every summer. The end came soon, and the village moved on."
    assert check_response(prefix + "\n\n" + out, "en").passed
    # a sentence repeated inside the chunk goes too; lines are kept
    dup = "A quiet street ran down to the harbour past the fish market every morning."
    out = drop_repeating_sentences("", f"{dup}\nNew things here.\n{dup} More new words.", "en")
    assert out == f"{dup}\nNew things here.\nMore new words."
    zh = "春天的花园里开满了红色的花朵。"
    assert drop_repeating_sentences(zh, f"{zh}秋天来了。", "zh") == "秋天来了。"
