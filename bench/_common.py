"""Shared by the benches that bench_all.py runs: the embedded model's raw decode rate (the floor a
pipeline is measured against), and one JSON result per bench for bench/results.md."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from longform.llm.embedded import LLAMA_THREAD, EmbeddedBackend
from longform.text import count_words

ROOT = Path(__file__).resolve().parents[1]
RAW_PROMPT = [{"role": "user", "content": "Write a long essay about the history of the sea and the people who sail it."}]


def raw_decode(backend: EmbeddedBackend, *, max_tokens: int = 384, seeds: tuple[int, ...] = (1, 2)) -> dict[str, float]:
    """Words and tokens per second the model emits with (next to) no prompt to read: the same
    sampling as the section writer, the same llama.cpp instance and thread. The KV cache is reset
    first so nothing is reused from the previous call."""
    words = tokens = 0
    seconds = 0.0
    for seed in seeds:
        backend._llama.reset()
        t0 = time.perf_counter()
        out = LLAMA_THREAD.submit(
            backend._llama.create_chat_completion, messages=RAW_PROMPT, max_tokens=max_tokens, temperature=0.7,
            top_p=0.95, seed=seed, repeat_penalty=1.1,
        ).result()
        seconds += time.perf_counter() - t0
        tokens += out["usage"]["completion_tokens"]
        words += count_words(out["choices"][0]["message"].get("content") or "")
    backend._llama.reset()
    return {"words_per_s": words / seconds, "tokens_per_s": tokens / seconds, "words": words, "tokens": tokens,
            "seconds": seconds}


def emit(path: str | None, result: dict[str, Any]) -> None:
    """Write the bench's result as JSON (for bench_all.py) when --json FILE was given."""
    if path:
        Path(path).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def say(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
