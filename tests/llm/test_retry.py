import asyncio

import pytest

from longform.errors import ModelError
from longform.llm import ChatModel, GenParams, RetryPolicy
from longform.llm.retry import TransientError
from tests.fakes import ScriptedFakeBackend

FAST = RetryPolicy(max_attempts=4, initial_wait_s=0.01, max_wait_s=0.02, max_elapsed_s=30)
MSG = [{"role": "user", "content": "hi"}]


def run(coro):
    return asyncio.run(coro)


def test_transient_faults_are_retried_until_success():
    backend = ScriptedFakeBackend([TransientError("HTTP 500"), TransientError("HTTP 429"), "hello"])
    c = run(ChatModel(backend, retry=FAST).complete(MSG))
    assert c.text == "hello"
    assert c.attempts == 3
    assert len(backend.requests) == 3


def test_retries_are_bounded_and_the_error_names_backend_and_cause():
    backend = ScriptedFakeBackend([TransientError("connection refused")], repeat_last=True)
    with pytest.raises(ModelError) as err:
        run(ChatModel(backend, retry=FAST).complete(MSG))
    assert len(backend.requests) == 4
    assert "scripted-fake" in str(err.value) and "4 attempts" in str(err.value)
    assert "connection refused" in str(err.value)


def test_permanent_errors_are_not_retried():
    backend = ScriptedFakeBackend([ModelError("HTTP 400 bad request"), "never"])
    with pytest.raises(ModelError, match="400"):
        run(ChatModel(backend, retry=FAST).complete(MSG))
    assert len(backend.requests) == 1


def test_elapsed_bound_stops_retrying():
    policy = RetryPolicy(max_attempts=1000, initial_wait_s=0.05, max_wait_s=0.05, max_elapsed_s=0.3)
    backend = ScriptedFakeBackend([TransientError("HTTP 503")], repeat_last=True)
    with pytest.raises(ModelError):
        run(ChatModel(backend, retry=policy).complete(MSG))
    assert 2 <= len(backend.requests) < 1000


def test_usage_is_accounted_across_calls():
    backend = ScriptedFakeBackend(["aaaa", "bbbbbbbb"])
    model = ChatModel(backend, retry=FAST)
    run(model.complete(MSG, GenParams(seed=1)))
    run(model.complete(MSG, GenParams(seed=2)))
    assert model.calls == 2
    assert model.usage.completion_tokens == 1 + 1  # the fake counts 1.3 tokens a word
    assert model.usage.prompt_tokens > 0


def test_concurrency_limit_is_respected():
    in_flight = 0
    peak = 0

    class Slow(ScriptedFakeBackend):
        async def generate(self, messages, params):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1
            return await super().generate(messages, params)

    backend = Slow(["x"], repeat_last=True)
    model = ChatModel(backend, max_concurrency=3, retry=FAST)

    async def many():
        await asyncio.gather(*(model.complete(MSG, GenParams(seed=i)) for i in range(12)))

    run(many())
    assert peak == 3
    assert len(backend.requests) == 12
