"""Helpers for dataset-builder unit tests: a scripted fake backend that answers plans with JSON and
prose requests with text of a chosen length. NOT a model: control flow only."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from longform.llm import ChatModel, RetryPolicy
from tests.fakes import ScriptedFakeBackend

VOCAB = ["harbour", "morning", "gull", "net", "wall", "boat", "father", "light", "window", "quay", "bell", "pier", "tide", "baker", "loaf", "chapel", "rain", "stone", "river", "lantern", "letter", "road", "market", "kettle", "garden", "orchard", "winter", "summer", "cloud", "hill", "valley", "bridge", "clock", "station", "ticket", "engine", "carriage", "field", "fence", "sheep", "shepherd", "mountain", "forest", "path", "cabin", "fire", "story", "captain", "sailor", "island", "compass", "map", "journey", "village", "teacher", "student", "notebook", "pencil", "library", "shelf", "window", "candle", "supper", "bread", "cheese", "apple", "pear", "plum", "cherry", "honey", "tea", "cup", "saucer", "spoon", "table", "chair", "door", "key", "lock", "garden", "gate", "rose", "tulip", "meadow", "stream", "pebble", "shell", "sand", "wave", "storm", "thunder"]
ZH_CHARS = "清晨港口慢慢醒来海鸥在渔网上争吵她按照父亲教方法数着船只灯塔雨水石桥河流集市花园冬天夏天云朵山谷车站钟表"


def prose(n_words: int, salt: int = 0, lang: str = "en") -> str:
    """About n_words words of varied (non-looping) prose that ends with a full stop."""
    import random

    rng = random.Random(salt)
    if lang == "zh":
        out = []
        while len(out) < n_words:
            out.extend(rng.choice(ZH_CHARS) for _ in range(12))
            out.append("。")
        return "".join(out)
    sentences: list[str] = []
    count = 0
    while count < n_words:
        k = min(rng.randint(8, 14), max(1, n_words - count))
        words = [rng.choice(VOCAB) for _ in range(k)]
        sentences.append(" ".join(words).capitalize() + ".")
        count += k
    return " ".join(sentences)


def answer(length_for: Any = None):
    """A scripted step: plans get a 1-section JSON plan; prose gets `length_for(messages, params)` words."""

    def step(messages: list[dict[str, str]], params: Any) -> str:
        if params.json_schema is not None:
            return json.dumps({"sections": [{"title": "Part one", "main_point": "the story", "words": 100}]})
        text = " ".join(m["content"] for m in messages)
        m = re.search(r"(\d+) words", text) or re.search(r"(\d+)\s*字", text)
        target = int(m.group(1)) if m else 200
        n = length_for(messages, params, target) if length_for else target
        return prose(n, salt=zlib.crc32(text.encode()) * 31 + (params.seed or 0))

    return step


def fake_model(step: Any, *, n_ctx: int = 4096, retries: int = 1) -> ChatModel:
    backend = ScriptedFakeBackend([step], n_ctx=n_ctx, repeat_last=True)
    return ChatModel(backend, cache=None, retry=RetryPolicy(max_attempts=retries, initial_wait_s=0.01, max_wait_s=0.02))


def without_timings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without what differs between two runs of the same records: timings and cache hits."""

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ("latency_s", "cached_calls")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    out = []
    for r in rows:
        r = dict(r)
        for k in ("usage", "candidates"):
            if isinstance(r.get(k), str):
                r[k] = strip(json.loads(r[k]))
        out.append(r)
    return out
