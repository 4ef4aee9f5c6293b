"""TunedLlama against llama-cpp-python's own code path, on the real embedded model."""

import asyncio
import json
import random
import types

import llama_cpp
import pytest

from longform.llm import ChatModel, GenParams, tuned_llama

pytestmark = pytest.mark.model


def test_detokenize_gives_the_same_bytes_as_llama_cpp_python(embedded_backend):
    llm = embedded_backend._llama
    rng = random.Random(0)
    # llama-cpp-python reads a piece into a 32-byte buffer and drops longer ones (47 tokens of runs
    # of spaces or dashes); the table holds them whole, so they are compared on their own below
    short = [t for t in range(llm.n_vocab()) if len(llm.token_pieces(True)[t]) <= 32]
    texts = ["Plain words, then “quotes”, 中文, emoji 🙂 and\nnew lines.", '{"title": "x"}']
    seqs = [llm.tokenize(t.encode(), add_bos=False) for t in texts]
    seqs += [[rng.choice(short) for _ in range(200)] for _ in range(5)]
    seqs += [[llm.token_bos()] + seqs[0], []]
    for seq in seqs:
        for special in (False, True):
            assert llm.detokenize(seq, special=special) == llm._model.detokenize(seq, special=special)
    dashes = llm.tokenize(b"-" * 64, add_bos=False)
    assert llm.detokenize(dashes) == b"-" * 64


def test_without_a_grammar_the_chain_samples_exactly_as_llama_cpp_python(embedded_backend):
    """Same seed, same processors: the same reply from TunedLlama's chain and from the library's."""
    llm = embedded_backend._llama
    params = GenParams(max_tokens=60, temperature=0.9, seed=7, min_tokens=50, no_repeat_ngram=3,
                       repeat_penalty=1.1, frequency_penalty=0.2, presence_penalty=0.2)
    messages = [{"role": "user", "content": "Describe a lighthouse at night."}]
    ours = embedded_backend._generate_sync(messages, params)
    llm._init_sampler = types.MethodType(llama_cpp.Llama._init_sampler, llm)
    try:
        theirs = embedded_backend._generate_sync(messages, params)
    finally:
        del llm._init_sampler
    assert ours.text == theirs.text and ours.usage == theirs.usage


def test_a_json_call_runs_the_grammar_on_the_cut_list_and_stays_valid(embedded_backend, monkeypatch):
    sizes = []
    real_cut = tuned_llama.cut_candidates

    def counting_cut(cur_p, keep_top, always):
        sizes.append(real_cut(cur_p, keep_top, always))
        return sizes[-1]

    monkeypatch.setattr(tuned_llama, "cut_candidates", counting_cut)
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40},
                                               "rank": {"type": "integer"}}, "required": ["city", "rank"]}
    model = ChatModel(embedded_backend, repair_attempts=0)
    c = asyncio.run(model.complete([{"role": "user", "content": "Name a city and its rank, as JSON."}],
                                   GenParams(max_tokens=60, seed=3, json_schema=schema)))
    assert set(json.loads(c.text)) == {"city", "rank"}
    safety = embedded_backend._llama.grammar_safety
    assert len(sizes) == c.usage.completion_tokens + (c.finish_reason == "stop")  # every sampling step was cut
    assert all(n <= tuned_llama.KEEP_TOP + len(safety) for n in sizes)
    # the safety set holds the first byte of every character a JSON string can need: printable
    # ASCII and the lead bytes of 2- and 3-byte UTF-8 sequences
    pieces = embedded_backend._llama.token_pieces()
    single = {pieces[t][0] for t in safety.tolist() if len(pieces[t]) == 1}
    assert set(range(0x20, 0x7F)) | set(range(0xC2, 0xF0)) <= single
