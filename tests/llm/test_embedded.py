"""The real embedded model (SmolLM2-135M-Instruct via llama-cpp-python) through the shared layer."""

import asyncio

import pytest

from longform.llm import ChatModel, GenParams
from longform.llm.cache import RequestCache
from longform.llm.call_log import CallLog

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
