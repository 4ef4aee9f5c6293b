"""The real embedded model (SmolLM2-135M-Instruct via llama-cpp-python) through the shared layer."""

import asyncio
import json

import pytest

from longform.llm import ChatModel, GenParams
from longform.llm.cache import RequestCache
from longform.llm.call_log import CallLog
from tests.model_threads import FIXTURE_THREADS, THREADS

pytestmark = pytest.mark.model

PLAN_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "sections": {
            "type": "array",
            "minItems": 2,
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {"heading": {"type": "string"}, "words": {"type": "integer", "minimum": 50}},
                "required": ["heading", "words"],
            },
        },
    },
    "required": ["title", "sections"],
}


def test_chat_completion(embedded_backend):
    model = ChatModel(embedded_backend)
    c = asyncio.run(model.complete([{"role": "user", "content": "Name a colour."}], GenParams(max_tokens=24, seed=1)))
    assert c.text.strip()
    assert c.finish_reason in ("stop", "length")
    assert 0 < c.usage.completion_tokens <= 24
    assert c.usage.prompt_tokens > 0
    assert model.calls == 1


def test_same_seed_same_text_and_the_template_comes_from_the_gguf(embedded_backend):
    model = ChatModel(embedded_backend)
    msgs = [{"role": "user", "content": "Say something about rivers."}]
    a = asyncio.run(model.complete(msgs, GenParams(max_tokens=20, seed=7)))
    b = asyncio.run(model.complete(msgs, GenParams(max_tokens=20, seed=7)))
    assert a.text == b.text
    assert "<|im_start|>user\nhello<|im_end|>" in embedded_backend.render([{"role": "user", "content": "hello"}])


def test_json_schema_completion_is_valid_after_repair_or_a_recorded_fallback(embedded_backend, tmp_path):
    """What the layer guarantees whatever the model samples (sampled text differs between CPUs: the
    grammar enforces the JSON's shape, not `minimum`): a value that validates against the schema, or
    the caller's fallback, marked and logged as such."""
    import jsonschema

    log = CallLog(tmp_path / "calls.jsonl")
    model = ChatModel(embedded_backend, call_log=log, repair_attempts=2)
    fallback = {"title": "Tea", "sections": [{"heading": "One", "words": 100}, {"heading": "Two", "words": 100}]}
    c = asyncio.run(
        model.complete(
            [{"role": "user", "content": "Plan a short essay about tea as JSON with a title and sections."}],
            GenParams(max_tokens=300, temperature=0.2, seed=3, json_schema=PLAN_SCHEMA),
            fallback=lambda: fallback,
        )
    )
    jsonschema.validate(c.parsed, PLAN_SCHEMA)
    events = [r.get("event") for r in log.read()]
    if c.fallback:
        assert c.parsed == fallback and events[-1] == "structured_fallback"
    else:
        assert "structured_fallback" not in events and 0 <= c.meta["repairs"] <= 2
    assert len([r for r in log.read() if "event" not in r]) == 1 + c.meta["repairs"]


def test_long_history_is_trimmed_to_the_window_instead_of_overflowing(embedded_backend, tmp_path):
    log = CallLog(tmp_path / "calls.jsonl")
    model = ChatModel(embedded_backend, call_log=log)
    turn = "The history of tea spans many centuries and many countries. " * 40  # ~500 tokens
    msgs = [{"role": "system", "content": "You are concise."}]
    for i in range(12):  # ~6000 tokens of history against a 2048-token window
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"Turn {i}. {turn}"})
    msgs.append({"role": "user", "content": "In one sentence: what was this about?"})
    assert embedded_backend.count_messages(msgs) > embedded_backend.n_ctx
    c = asyncio.run(model.complete(msgs, GenParams(max_tokens=64, seed=0)))
    assert c.text.strip()
    assert c.trimmed_messages > 0
    sent = log.read()[-1]["messages"]
    assert sent[0]["content"] == "You are concise." and sent[-1]["content"].startswith("In one sentence")
    assert embedded_backend.count_messages(sent) + 64 <= embedded_backend.n_ctx
    assert c.usage.prompt_tokens + c.usage.completion_tokens <= embedded_backend.n_ctx


def test_second_identical_call_is_served_from_the_cache(embedded_backend, tmp_path):
    model = ChatModel(embedded_backend, cache=RequestCache(tmp_path / "cache.sqlite"))
    msgs = [{"role": "user", "content": "Write one line about the sea."}]
    first = asyncio.run(model.complete(msgs, GenParams(max_tokens=30, seed=11)))
    second = asyncio.run(model.complete(msgs, GenParams(max_tokens=30, seed=11)))
    assert second.cached and not first.cached
    assert second.text == first.text
    assert model.calls == 1 and model.cache_hits == 1


def _token_grams(ids, n):
    return [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]


def test_no_repeat_ngram_never_copies_the_history_nor_loops(embedded_backend):
    """Asked to copy a passage three times, with the passage as history: no token 4-gram of the
    history, nor any 4-gram twice, in what was decoded (the token ids themselves are checked)."""
    passage = ("The tea clippers raced from Fuzhou to London every spring, and the fastest ship won a prize "
               "of ten shillings a ton for its cargo.")
    msgs = [{"role": "user", "content": f"Repeat this sentence exactly, three times:\n{passage}"}]
    n = 4
    c = asyncio.run(ChatModel(embedded_backend).complete(
        msgs, GenParams(max_tokens=96, seed=3, temperature=0.2, no_repeat_ngram=n, history=(passage,))))
    assert c.text.strip() and c.usage.completion_tokens > n
    llama = embedded_backend._llama
    reply = [int(t) for t in llama._input_ids[embedded_backend.count_messages(msgs):]]
    history = {g for g in _token_grams(embedded_backend._tokens(passage), n)}
    grams = _token_grams(reply, n)
    assert len(reply) >= c.usage.completion_tokens - 1  # every decoded token but possibly the last is checked
    assert not set(grams) & history
    assert len(grams) == len(set(grams))


def test_no_repeat_ngram_in_json_blocks_content_only_and_stays_valid(embedded_backend):
    schema = {"type": "object", "properties": {"titles": {"type": "array", "minItems": 3, "maxItems": 5,
                                                          "items": {"type": "string", "maxLength": 40}}},
              "required": ["titles"]}
    model = ChatModel(embedded_backend, repair_attempts=0)
    msgs = [{"role": "user", "content": "Give five chapter titles for a novel about a family farm, as JSON."}]
    c = asyncio.run(model.complete(msgs, GenParams(max_tokens=160, seed=4, temperature=0.3, json_schema=schema,
                                                   no_repeat_ngram=3), fallback=lambda: {"titles": ["a", "b", "c"]}))
    assert c.fallback or 3 <= len(c.parsed["titles"]) <= 5  # valid, or the recorded fallback
    reply = [int(t) for t in embedded_backend._llama._input_ids[embedded_backend.count_messages(msgs):]]
    structural = embedded_backend._structural_tokens()
    content = [g for g in _token_grams(reply, 3) if not any(t in structural for t in g)]
    assert len(content) == len(set(content))  # no stretch of text twice; `"`, `", "` may recur
    assert len(_token_grams(reply, 3)) > len(content)  # (the reply has structure: those grams were exempt)


def test_default_threads_come_from_usable_cores_with_a_governor(embedded_backend):
    import os

    from longform.llm.embedded import EmbeddedBackend

    # the shared fixture runs on the forced count under `make test-threads`; this test needs the default
    backend = embedded_backend if FIXTURE_THREADS is None else EmbeddedBackend(n_ctx=256)
    threads = backend.describe()["threads"]
    cores = len(os.sched_getaffinity(0))
    if cores == 1:
        assert threads == 1
    else:
        assert threads["chosen_from"][0] == cores and threads["chosen_from"][-1] == 1
        assert threads["now"] in threads["chosen_from"]
    # decided before llama.cpp loaded: PASSIVE on a busy machine, libgomp's spinning on a free one
    assert backend.describe()["omp_wait_policy"] in ("PASSIVE", "spin (libgomp default)", os.environ.get("OMP_WAIT_POLICY"))


def test_blocking_every_token_a_grammar_allows_does_not_abort_the_process():
    """Under a JSON grammar that allows only banned tokens, llama.cpp aborts the whole process when
    the ban is -inf ("Unexpected empty grammar stack", seen on a plan call); the program must instead
    decode a valid reply. Run in a child process, so a regression fails this test instead of killing
    the test run."""
    import subprocess
    import sys

    code = """
import asyncio, json
from longform.llm import ChatModel, GenParams
from longform.llm.embedded import EmbeddedBackend
phrase = "alpha beta gamma delta epsilon"
schema = {"type": "object", "properties": {"w": {"type": "string", "enum": [phrase]}}, "required": ["w"]}
model = ChatModel(EmbeddedBackend(n_ctx=512, n_threads=1), repair_attempts=0)
c = asyncio.run(model.complete([{"role": "user", "content": "Reply with JSON."}],
                GenParams(max_tokens=40, seed=1, json_schema=schema, no_repeat_ngram=2, history=(phrase,)),
                fallback=lambda: {"w": "fallback"}))
print(json.dumps(c.parsed))
# the case that aborted a writer run on this machine: a plan whose content n-grams are blocked
from longform.agents import planner
secs, meta = asyncio.run(planner.make_plan(model, "Write an article about the history of bridges.", 600, 4, seed=0))
assert len(secs) == 4 and sum(s["words"] for s in secs) == 600
print(json.dumps(c.parsed))
"""
    code = code.replace("n_threads=1", f"n_threads={THREADS}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-1500:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"w": "alpha beta gamma delta epsilon"}


def test_min_tokens_keeps_a_short_answer_going(embedded_backend):
    """A question answered in a few words, asked with a floor: the reply cannot end before the floor
    (its end and control tokens are banned until then), and max_tokens still bounds it."""
    msgs = [{"role": "user", "content": "Reply with one word: yes or no. Is water wet?"}]
    c = asyncio.run(ChatModel(embedded_backend).complete(msgs, GenParams(max_tokens=120, seed=2, min_tokens=80)))
    assert 80 <= c.usage.completion_tokens <= 120
    # A floor above max_tokens is held to max_tokens, and the reply ends there.
    c2 = asyncio.run(ChatModel(embedded_backend).complete(msgs, GenParams(max_tokens=30, seed=2, min_tokens=500)))
    assert c2.usage.completion_tokens == 30 and c2.finish_reason == "length"


def test_end_at_sentence_after_cuts_the_same_reply_at_its_first_sentence_end_past_the_floor(embedded_backend):
    """Same seed, same prompt, with and without the stop: the logits are the same until it acts, so
    the stopped reply is the free reply up to its first sentence end past the floor."""
    from longform.llm.sentence_stop import ends_sentence

    msgs = [{"role": "user", "content": "Write a long essay about the history of bridges."}]
    base = {"max_tokens": 220, "seed": 5, "min_tokens": 200}  # the free reply cannot end before 200 tokens
    embedded_backend._llama.reset()
    free = asyncio.run(embedded_backend.generate(msgs, GenParams(**base)))
    embedded_backend._llama.reset()
    stopped = asyncio.run(embedded_backend.generate(msgs, GenParams(**base, end_at_sentence_after=40)))
    free_ids = embedded_backend._tokens(free.text)
    assert stopped.usage.completion_tokens >= 40
    assert free.text.startswith(stopped.text)
    # Where the free reply has a sentence end past token 40, the stopped one ends at the first of them.
    ends = [i for i, t in enumerate(free_ids) if i >= 39 and ends_sentence(embedded_backend._llama.detokenize([t]).decode("utf-8", "replace"))]
    if ends:
        assert stopped.finish_reason == "stop"
        assert ends_sentence(stopped.text[-3:]) or stopped.text.rstrip()[-1] in ".!?"
        assert stopped.usage.completion_tokens < free.usage.completion_tokens
    else:
        assert stopped.text == free.text
