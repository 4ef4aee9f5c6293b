import asyncio

from longform.llm import ChatModel, GenParams
from longform.llm.cache import RequestCache, request_key
from longform.llm.call_log import CallLog
from tests.fakes import ScriptedFakeBackend

MSG = [{"role": "user", "content": "hi"}]


def test_key_depends_on_model_messages_and_every_param():
    base = request_key("m", MSG, GenParams())
    assert base == request_key("m", [dict(MSG[0])], GenParams())
    assert base != request_key("m2", MSG, GenParams())
    assert base != request_key("m", [{"role": "user", "content": "hi!"}], GenParams())
    assert base != request_key("m", MSG, GenParams(seed=1))
    assert base != request_key("m", MSG, GenParams(max_tokens=7))
    assert base != request_key("m", MSG, GenParams(json_schema={"type": "object"}))


def test_second_identical_call_is_served_from_cache(tmp_path):
    backend = ScriptedFakeBackend(["first", "second"])
    log = CallLog(tmp_path / "calls.jsonl")
    model = ChatModel(backend, cache=RequestCache(tmp_path / "c.sqlite"), call_log=log)
    a = asyncio.run(model.complete(MSG, GenParams(seed=3)))
    b = asyncio.run(model.complete(MSG, GenParams(seed=3)))
    assert (a.text, b.text) == ("first", "first")
    assert b.cached and not a.cached
    assert len(backend.requests) == 1 and model.cache_hits == 1
    assert [r["cached"] for r in log.read()] == [False, True]


def test_cache_survives_a_new_process(tmp_path):
    path = tmp_path / "c.sqlite"
    asyncio.run(ChatModel(ScriptedFakeBackend(["kept"]), cache=RequestCache(path)).complete(MSG))
    backend = ScriptedFakeBackend([])
    c = asyncio.run(ChatModel(backend, cache=RequestCache(path)).complete(MSG))
    assert c.text == "kept" and c.cached and backend.requests == []


def test_unseeded_calls_are_never_cached(tmp_path):
    backend = ScriptedFakeBackend(["a", "b"])
    model = ChatModel(backend, cache=RequestCache(tmp_path / "c.sqlite"))
    texts = [asyncio.run(model.complete(MSG, GenParams(seed=None))).text for _ in range(2)]
    assert texts == ["a", "b"]
