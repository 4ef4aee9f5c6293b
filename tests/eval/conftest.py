"""Small benchmark files and a scripted model for the eval's control-flow tests (the scripted fake
stands in for a model only to drive the loop: interrupts, failures, resume; never for a score claim)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from longform.eval import runner
from longform.llm import ChatModel, RetryPolicy
from longform.llm.retry import TransientError
from tests.fakes import ScriptedFakeBackend, prose


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def ruler_file(tmp_path: Path) -> Path:
    rows = [{"prompt": f"Write a {n}-word note about topic {k}.", "type": "t", "length": n}
            for k, n in enumerate([100, 200, 300])]
    return write_jsonl(tmp_path / "ruler.jsonl", rows)


@pytest.fixture
def longen_file(tmp_path: Path) -> Path:
    rows = [
        {"language": "en", "range": "2-4k", "type": "about", "constraint": "around 300 words", "query": "Essay A, about 300 words."},
        {"language": "en", "range": "2-4k", "type": "above", "constraint": "more than 200 words", "query": "Essay B, more than 200 words."},
        {"language": "en", "range": "2-4k", "type": "below", "constraint": "less than 400 words", "query": "Essay C, under 400 words."},
        {"language": "en", "range": "2-4k", "type": "range", "constraint": "250-350 words", "query": "Essay D, 250-350 words."},
        {"language": "zh", "range": "2-4k", "type": "about", "constraint": "大约300字", "query": "写一篇文章，大约300字。"},
    ]
    return write_jsonl(tmp_path / "longen.jsonl", rows)


def reply_by_prompt(factor: float = 1.0, fail_on: str | None = None):
    """A reply of factor x the first number in the user's prompt, in words; a transient fault for
    prompts containing `fail_on` (the layer retries it, then gives up)."""

    def reply(messages, params) -> str:
        text = messages[-1]["content"]
        if fail_on and fail_on in text:
            raise TransientError("HTTP 503 from the test server")
        m = re.search(r"(\d+)", text)
        return prose(int(int(m.group(1)) * factor) if m else 120)

    return reply


class ModelFactory:
    """Stands in for runner.load_model: every model it builds is the real ChatModel layer over one
    scripted backend (fast retries), and it remembers the backends so a test can count requests."""

    def __init__(self, make_backend):
        self.make_backend = make_backend
        self.backends: list[ScriptedFakeBackend] = []

    def __call__(self, config) -> ChatModel:
        backend = self.make_backend()
        self.backends.append(backend)
        return ChatModel(backend, cache=None, retry=RetryPolicy(max_attempts=2, initial_wait_s=0.01, max_wait_s=0.02))

    @property
    def requests(self) -> list:
        return [r for b in self.backends for r in b.requests]


@pytest.fixture
def use_models(monkeypatch):
    def install(make_backend) -> ModelFactory:
        factory = ModelFactory(make_backend)
        monkeypatch.setattr(runner, "load_model", factory)
        return factory

    return install
