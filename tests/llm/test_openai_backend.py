"""The `openai` and `litellm` backends against a real llama_cpp.server on loopback, with and without faults."""

import asyncio

import pytest

from longform.errors import ModelError
from longform.llm import ChatModel, GenParams, RetryPolicy
from longform.llm.litellm_backend import LiteLLMBackend
from longform.llm.openai_compat import OpenAIBackend
from tests.llm.conftest import free_port
from tests.llm.fault_proxy import FaultProxy

pytestmark = pytest.mark.server

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
MSG = [{"role": "user", "content": "Name a fruit."}]


def test_chat_through_openai_backend(llama_server):
    model = ChatModel(OpenAIBackend("smollm2", base_url=f"{llama_server}/v1"))
    c = asyncio.run(model.complete(MSG, GenParams(max_tokens=16, seed=2)))
    assert c.text.strip() and c.usage.completion_tokens > 0 and c.attempts == 1


def test_json_schema_through_openai_backend(llama_server):
    model = ChatModel(OpenAIBackend("smollm2", base_url=f"{llama_server}/v1"))
    c = asyncio.run(model.complete(MSG, GenParams(max_tokens=60, seed=2, json_schema=SCHEMA)))
    assert isinstance(c.parsed, dict) and isinstance(c.parsed["answer"], str)


def test_chat_through_litellm_backend(llama_server):
    model = ChatModel(LiteLLMBackend("openai/smollm2", base_url=f"{llama_server}/v1"))
    c = asyncio.run(model.complete(MSG, GenParams(max_tokens=16, seed=2)))
    assert c.text.strip() and c.usage.completion_tokens > 0


def test_faults_are_retried_within_the_bound(llama_server):
    schedule = ["500", "ok", "429", "drop", "ok", "slow", "garbage", "503", "ok"]
    with FaultProxy(llama_server, schedule, slow_s=4.0) as proxy:
        backend = OpenAIBackend("smollm2", base_url=f"{proxy.url}/v1", timeout_s=2.0)
        model = ChatModel(backend, retry=RetryPolicy(max_attempts=5, initial_wait_s=0.05, max_wait_s=0.2))

        async def calls():
            return [await model.complete(MSG, GenParams(max_tokens=8, seed=s)) for s in range(3)]

        results = asyncio.run(calls())
    assert all(r.text.strip() for r in results)
    assert [r.attempts for r in results] == [2, 3, 4]
    assert proxy.seen == schedule


def test_server_gone_for_good_gives_a_clear_error_after_bounded_attempts():
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    backend = OpenAIBackend("smollm2", base_url=dead, timeout_s=2.0)
    model = ChatModel(backend, retry=RetryPolicy(max_attempts=3, initial_wait_s=0.05, max_wait_s=0.1))
    with pytest.raises(ModelError) as err:
        asyncio.run(model.complete(MSG, GenParams(max_tokens=8)))
    msg = str(err.value)
    assert "after 3 attempts" in msg and "Cannot reach" in msg and dead.rsplit("/v1", 1)[0] in msg
    assert "\n" not in msg


def test_server_that_only_fails_gives_up_after_the_bound(llama_server):
    with FaultProxy(llama_server, ["500"], slow_s=0) as proxy:
        model = ChatModel(OpenAIBackend("smollm2", base_url=f"{proxy.url}/v1"),
                          retry=RetryPolicy(max_attempts=4, initial_wait_s=0.05, max_wait_s=0.1))
        with pytest.raises(ModelError, match="after 4 attempts.*500"):
            asyncio.run(model.complete(MSG, GenParams(max_tokens=8)))
    assert len(proxy.seen) == 4


def test_a_server_that_never_answers_is_bounded_by_the_stall_timeout(llama_server):
    """A hung server (connection accepted, no byte sent) and one that stops mid-stream are retried
    after --stall-timeout, not after the total --timeout; the error says the server stalled."""
    with FaultProxy(llama_server, ["hang", "stall", "ok"], hang_s=20) as proxy:
        backend = OpenAIBackend("smollm2", base_url=f"{proxy.url}/v1", timeout_s=600, stall_timeout_s=1.5)
        retries = []
        model = ChatModel(backend, retry=RetryPolicy(max_attempts=4, initial_wait_s=0.05, max_wait_s=0.1))
        model.activity.listeners.append(lambda kind, d: retries.append(d["cause"]))
        c = asyncio.run(model.complete(MSG, GenParams(max_tokens=8, seed=4)))
    assert c.text.strip() and c.attempts == 3
    assert "before the first chunk" in retries[0] and "after 1 chunk" in retries[1]
    assert all(r.startswith("stalled: no data from the server for 1.5s") for r in retries)


def test_a_hung_server_fails_for_good_with_a_message_that_says_so(llama_server):
    with FaultProxy(llama_server, ["hang"], hang_s=20) as proxy:
        backend = OpenAIBackend("smollm2", base_url=f"{proxy.url}/v1", timeout_s=600, stall_timeout_s=1.0)
        model = ChatModel(backend, retry=RetryPolicy(max_attempts=2, initial_wait_s=0.05, max_wait_s=0.1))
        with pytest.raises(ModelError) as err:
            asyncio.run(model.complete(MSG, GenParams(max_tokens=8)))
    msg = str(err.value)
    assert "after 2 attempts" in msg and "stalled: no data from the server for 1s" in msg
    assert "accepts connections but does not answer" in msg and "--stall-timeout" in msg
