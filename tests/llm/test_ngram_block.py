"""No-repeat n-gram blocking (the embedded backend's logits processor), on token ids."""

import numpy as np
import pytest

from longform.llm.ngram_block import NgramBlocker, history_tokens


def test_history_ngrams_are_blocked_and_prompt_ngrams_are_not():
    history = [[1, 2, 3, 4, 5]]
    prompt = [9, 1, 2, 7]  # the prompt contains "1 2 7": not history, never learnt from
    b = NgramBlocker(3, history, prompt_len=len(prompt))
    assert b.banned(prompt + [1, 2]) == {3}  # "1 2 3" is in the history
    assert b.banned(prompt + [3, 4]) == {5}
    assert b.banned(prompt + [5, 5]) == set()


def test_reply_ngrams_are_blocked_within_the_reply_for_prose_only():
    prompt = [100, 101]
    prose = NgramBlocker(3, [], prompt_len=2)
    ids = prompt + [1, 2, 3, 8, 1, 2]
    for k in range(len(prompt), len(ids) + 1):
        prose.banned(ids[:k])  # called once per decoding step, as llama.cpp does
    assert prose.banned(ids) == {3}
    json_like = NgramBlocker(3, [], prompt_len=2, within_reply=False)
    assert json_like.banned(ids) == set()


def test_end_of_text_is_never_banned_and_banned_scores_drop_but_stay_finite():
    b = NgramBlocker(2, [[5, 0], [5, 6], [5, 7]], prompt_len=0, never=[0])
    scores = np.zeros(10, dtype=np.float32)
    scores[7] = 3.0
    out = b(np.array([5]), scores)
    assert out[0] == 0.0 and b.blocked == 1
    assert np.isfinite(out).all() and out[6] < -1000 and out[7] > out[6]  # finite: a grammar may allow only these
    assert int(np.argmax(out)) not in (6, 7)


def test_no_sequence_from_the_history_survives_greedy_copying():
    """A decoder that always prefers to copy the history cannot emit any of its n-grams."""
    hist = list(range(10, 40))
    n = 4
    b = NgramBlocker(n, [hist], prompt_len=0)
    out: list[int] = []
    for _ in range(40):
        scores = np.zeros(50, dtype=np.float32)
        nxt = hist[(hist.index(out[-1]) + 1) % len(hist)] if out and out[-1] in hist else hist[0]
        scores[nxt] = 10.0
        scores = b(np.array(out, dtype=np.intc), scores)
        out.append(int(np.argmax(scores)))
    grams = set()
    for i in range(len(out) - n + 1):
        grams.add(tuple(out[i : i + n]))
    hist_grams = {tuple(hist[i : i + n]) for i in range(len(hist) - n + 1)}
    assert not grams & hist_grams
    assert len(grams) == len(out) - n + 1  # nor repeats itself


def test_history_is_tokenized_by_paragraph_and_n_below_two_is_refused():
    seen = []

    def tok(text: str) -> tuple[int, ...]:
        seen.append(text)
        return tuple(ord(c) for c in text)

    out = history_tokens(tok, ["ab\n\ncd", "ab"])
    assert out == [(97, 98), (99, 100), (97, 98)]
    assert seen.count("ab") == 1  # cached
    with pytest.raises(ValueError):
        NgramBlocker(1, [], prompt_len=0)
