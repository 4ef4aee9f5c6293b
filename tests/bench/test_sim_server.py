"""The simulated OpenAI-compatible server: slots, pacing, counting, streaming, schema replies."""

import asyncio
import json

import jsonschema
import openai
import pytest

from bench.sim_server import SimServer, asked_words, instance
from longform.prompting import load_schema


@pytest.fixture(scope="module")
def srv():
    with SimServer(slots=2, tokens_per_s=200) as s:
        yield s


def client(srv):
    return openai.AsyncOpenAI(api_key="x", base_url=srv.base_url, max_retries=0)


def test_slots_bound_parallel_requests_and_tokens_are_paced(srv):
    srv.reset()

    async def go():
        c = client(srv)
        try:
            return await asyncio.gather(*[c.chat.completions.create(
                model="sim", messages=[{"role": "user", "content": f"Write about 40 words. ({i})"}], max_tokens=500)
                for i in range(6)])
        finally:
            await c.close()

    replies = asyncio.run(go())
    st = srv.stats()
    assert st["requests"] == st["completed"] == 6 and st["max_in_flight"] == 2
    assert st["completion_tokens"] == 240 and all(r.usage.completion_tokens == 40 for r in replies)
    assert all(len(r.choices[0].message.content.split()) == 40 for r in replies)
    assert all(end - start >= 40 / 200 for start, end, _ in srv.spans())  # a request never outruns the rate


def test_stream_gives_the_same_text_and_usage(srv):
    async def go():
        c = client(srv)
        try:
            msgs = [{"role": "user", "content": "Write about 25 words."}]
            plain = await c.chat.completions.create(model="sim", messages=msgs, max_tokens=100, seed=3)
            stream = await c.chat.completions.create(model="sim", messages=msgs, max_tokens=100, seed=3, stream=True,
                                                     stream_options={"include_usage": True})
            text, usage, finish = "", None, None
            async for ch in stream:
                if ch.choices and ch.choices[0].delta.content:
                    text += ch.choices[0].delta.content
                if ch.choices and ch.choices[0].finish_reason:
                    finish = ch.choices[0].finish_reason
                usage = ch.usage or usage
            return plain, text, usage, finish
        finally:
            await c.close()

    plain, text, usage, finish = asyncio.run(go())
    assert text == plain.choices[0].message.content and usage.completion_tokens == 25 and finish == "stop"


@pytest.mark.parametrize("name", ["cogwriter_requirements", "cogwriter_unit_plan", "cogwriter_check", "planner"])
def test_schema_requests_get_valid_json(srv, name):
    schema = load_schema(name)

    async def go():
        c = client(srv)
        try:
            return await c.chat.completions.create(model="sim", messages=[{"role": "user", "content": "plan"}], max_tokens=300,
                                                   response_format={"type": "json_schema",
                                                                    "json_schema": {"name": "o", "schema": schema}})
        finally:
            await c.close()

    jsonschema.validate(json.loads(asyncio.run(go()).choices[0].message.content), schema)


def test_reply_length_follows_the_request():
    assert asked_words([{"role": "user", "content": "Continue Week 3 with about 1,200 more words."}]) == 1200
    assert asked_words([{"role": "user", "content": "Write 40 more words"}]) == 40
    assert asked_words([{"role": "user", "content": "Hello"}]) is None
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}, "s": {"type": "array", "minItems": 2,
              "items": {"enum": ["a", "b"]}}}, "required": ["n", "s"]}
    assert instance(schema) == {"n": 3, "s": ["a", "a"]}
