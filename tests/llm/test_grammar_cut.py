"""The candidate cut in front of llama.cpp's grammar sampler, on hand-built token arrays."""

import ctypes

import llama_cpp
import numpy as np

from longform.llm.grammar_cut import cut_candidates, safety_tokens, token_view


def token_array(logits, ids=None):
    n = len(logits)
    data = (llama_cpp.llama_token_data * n)()
    for i, logit in enumerate(logits):
        data[i].id = i if ids is None else ids[i]
        data[i].logit = logit
        data[i].p = 0.0
    arr = llama_cpp.llama_token_data_array(data=ctypes.cast(data, ctypes.POINTER(llama_cpp.llama_token_data)),
                                           size=n, selected=-1, sorted=True)
    return ctypes.pointer(arr), data


def test_the_cut_keeps_the_top_logits_and_the_safety_set_with_their_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=1000).astype(np.float32)
    cur_p, _keepalive = token_array(logits)
    always = np.array([3, 7, 999], dtype=np.intc)
    n = cut_candidates(cur_p, 10, always)
    kept = token_view(cur_p)
    assert n == cur_p.contents.size == len(kept)
    top10 = set(np.argsort(logits)[-10:].tolist())
    assert set(kept["id"].tolist()) == top10 | {3, 7, 999}
    assert np.allclose(kept["logit"], logits[kept["id"]])  # each kept token carries its own logit
    assert cur_p.contents.sorted is False and cur_p.contents.selected == -1


def test_nothing_is_cut_when_the_array_is_short_or_not_in_token_order():
    cur_p, _a = token_array(np.zeros(20, dtype=np.float32))
    assert cut_candidates(cur_p, 10, np.arange(15, dtype=np.intc)) == 20 and cur_p.contents.size == 20
    shuffled = list(range(1000))[::-1]
    cur_p, _b = token_array(np.zeros(1000, dtype=np.float32), ids=shuffled)
    assert cut_candidates(cur_p, 10, np.array([1], dtype=np.intc)) == 1000


def test_the_safety_set_is_the_single_byte_tokens_and_the_end_tokens():
    pieces = [b"a", b"ab", b"", b"\xe4", b" the", b"}"]
    assert safety_tokens(pieces, end_tokens=[4]).tolist() == [0, 3, 4, 5]
