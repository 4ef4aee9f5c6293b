import asyncio

import pytest

from longform.errors import StructuredOutputError, UserError
from longform.llm import ChatModel, GenParams
from longform.llm.call_log import CallLog
from longform.llm.structured import check_schema, parse_and_validate
from tests.fakes import ScriptedFakeBackend

SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "words": {"type": "integer", "minimum": 1}},
    "required": ["title", "words"],
}
MSG = [{"role": "user", "content": "plan"}]


def test_valid_json_is_parsed():
    value, problem = parse_and_validate('{"title": "Tea", "words": 300}', SCHEMA)
    assert problem is None and value == {"title": "Tea", "words": 300}


def test_a_raw_newline_inside_a_string_is_taken_as_itself():
    """llama.cpp's JSON grammar lets a small model put raw newlines in a string; the value is still
    unambiguous, and rejecting it cost two repair calls and a fallback."""
    value, problem = parse_and_validate('{"title": "The Un\n\nS\n\nlence", "words": 404}', SCHEMA)
    assert problem is None and value == {"title": "The Un\n\nS\n\nlence", "words": 404}
    assert parse_and_validate('Sure: {"title": "a\tb", "words": 2} ok', SCHEMA)[0]["title"] == "a\tb"
    _, problem = parse_and_validate('{"title": "T", "words": }', SCHEMA)
    assert problem.startswith("not valid JSON (") and " at at " not in problem


def test_json_inside_fences_or_prose_is_found():
    assert parse_and_validate('```json\n{"title": "T", "words": 2}\n```', SCHEMA)[0] == {"title": "T", "words": 2}
    assert parse_and_validate('Sure! {"title": "T", "words": 2} Hope it helps', SCHEMA)[0]["words"] == 2


def test_schema_violation_is_described():
    value, problem = parse_and_validate('{"title": "T", "words": 0}', SCHEMA)
    assert value is None and "words" in problem and "minimum" in problem


def test_invalid_schema_is_a_user_error():
    with pytest.raises(UserError, match="invalid JSON schema"):
        check_schema({"type": "objekt"})
    with pytest.raises(UserError, match="expected an object"):
        check_schema(["not", "a", "schema"])


def test_bad_reply_is_repaired_with_the_problem_in_the_next_prompt():
    backend = ScriptedFakeBackend(["not json at all", '{"title": "Tea", "words": 12}'])
    c = asyncio.run(ChatModel(backend).complete(MSG, GenParams(json_schema=SCHEMA)))
    assert c.parsed == {"title": "Tea", "words": 12} and not c.fallback
    repair_prompt = backend.requests[1][0][-1]["content"]
    assert "not valid JSON" in repair_prompt or "no JSON" in repair_prompt
    assert backend.requests[1][1].seed != backend.requests[0][1].seed


def test_fallback_is_used_and_recorded_after_bounded_repairs(tmp_path):
    log = CallLog(tmp_path / "calls.jsonl")
    backend = ScriptedFakeBackend(['{"title": 5}'], repeat_last=True)
    model = ChatModel(backend, call_log=log, repair_attempts=2)
    c = asyncio.run(model.complete(MSG, GenParams(json_schema=SCHEMA), fallback=lambda: {"title": "x", "words": 1}))
    assert c.fallback and c.parsed == {"title": "x", "words": 1}
    assert len(backend.requests) == 3
    events = [r.get("event") for r in log.read()]
    assert events.count("structured_fallback") == 1


def test_no_fallback_raises_a_clear_error():
    backend = ScriptedFakeBackend(["[]"], repeat_last=True)
    with pytest.raises(StructuredOutputError, match="no valid JSON"):
        asyncio.run(ChatModel(backend, repair_attempts=1).complete(MSG, GenParams(json_schema=SCHEMA)))
    assert len(backend.requests) == 2


def test_invalid_schema_fails_before_any_call():
    backend = ScriptedFakeBackend(["{}"])
    with pytest.raises(UserError):
        asyncio.run(ChatModel(backend).complete(MSG, GenParams(json_schema={"type": 12})))
    assert backend.requests == []
