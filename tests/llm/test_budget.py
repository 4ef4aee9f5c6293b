import pytest

from longform.errors import UserError
from longform.llm.budget import CUT_MARK, estimate_tokens, fit_to_window


def count_text(text: str) -> int:  # one token a word, a simple exact tokenizer for the test
    return len(text.split())


def count_messages(msgs) -> int:
    return sum(count_text(m["content"]) + 3 for m in msgs)


def history(turns: int, words_each: int):
    msgs = [{"role": "system", "content": "be brief"}]
    for i in range(turns):
        role = "user" if i % 2 == 0 else "assistant"
        msgs.append({"role": role, "content": " ".join(f"t{i}w{j}" for j in range(words_each))})
    return msgs


def test_short_prompt_is_untouched():
    msgs = history(3, 10)
    fitted = fit_to_window(msgs, 100, 1000, count_messages, count_text)
    assert fitted.messages == msgs and fitted.dropped == 0 and fitted.max_tokens == 100


def test_oldest_turns_are_dropped_first_and_system_and_last_kept():
    msgs = history(21, 50)  # ~1100 tokens of history
    fitted = fit_to_window(msgs, 200, 1000, count_messages, count_text)
    assert fitted.prompt_tokens + fitted.max_tokens <= 1000
    assert fitted.messages[0] == msgs[0]
    assert fitted.messages[-1] == msgs[-1]
    assert fitted.dropped > 0
    kept = [m["content"] for m in fitted.messages[1:]]
    assert kept == [m["content"] for m in msgs[-len(kept):]]  # a suffix: newest turns survive


def test_one_huge_message_loses_its_middle_not_its_ends():
    words = [f"w{i}" for i in range(5000)]
    msgs = [{"role": "user", "content": " ".join(words)}]
    fitted = fit_to_window(msgs, 256, 1024, count_messages, count_text)
    text = fitted.messages[0]["content"]
    assert fitted.prompt_tokens + 256 <= 1024
    assert text.startswith("w0 w1") and text.endswith("w4998 w4999")
    assert CUT_MARK.strip() in text


def test_completion_cannot_starve_the_prompt():
    fitted = fit_to_window(history(1, 10), 5000, 1024, count_messages, count_text)
    assert fitted.max_tokens == 768


def test_nonpositive_max_tokens_is_rejected():
    with pytest.raises(UserError):
        fit_to_window(history(1, 1), 0, 1024, count_messages, count_text)


def test_token_estimate_over_counts_cjk():
    assert estimate_tokens("茶" * 100) >= 100
    assert estimate_tokens("tea " * 100) >= 100
