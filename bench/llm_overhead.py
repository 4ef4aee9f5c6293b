"""The LLM layer's overhead on the embedded backend.

Usage:
    .venv/bin/python bench/llm_overhead.py [--rounds 3] [--max-tokens 256]

Generates the same prompt with the same seed through raw `llama_cpp` and through longform's layer
(budget, cache lookup, limiter, retries, call log), alternating, on one Llama instance, and prints
completion tokens/s for each and the ratio layer/raw (aim: >= 0.95).

The raw calls run on the layer's llama thread (`LLAMA_THREAD`): llama.cpp driven from two threads
of one process runs two OpenMP teams that slow each other down, which would measure that, not the layer.
Run it on an idle machine: other processes using the cores make both figures noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from longform.llm import ChatModel, GenParams
from longform.llm.cache import RequestCache
from longform.llm.call_log import CallLog
from longform.llm.embedded import LLAMA_THREAD, EmbeddedBackend

PROMPT = [{"role": "user", "content": "Write a detailed essay about the history of tea in China and Britain."}]


def raw_tokens_per_s(backend: EmbeddedBackend, max_tokens: int, seed: int) -> float:
    backend._llama.reset()
    started = time.perf_counter()
    out = LLAMA_THREAD.submit(
        backend._llama.create_chat_completion,
        messages=PROMPT, max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=seed,
    ).result()
    return out["usage"]["completion_tokens"] / (time.perf_counter() - started)


def layer_tokens_per_s(model: ChatModel, max_tokens: int, seed: int) -> float:
    model.backend._llama.reset()  # type: ignore[attr-defined]
    started = time.perf_counter()
    c = asyncio.run(model.complete(PROMPT, GenParams(max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=seed)))
    return c.usage.completion_tokens / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=256)
    args = ap.parse_args()
    backend = EmbeddedBackend()
    with tempfile.TemporaryDirectory() as tmp:
        model = ChatModel(backend, cache=RequestCache(Path(tmp) / "cache.sqlite"), call_log=CallLog(Path(tmp) / "calls.jsonl"))
        raw, layer = [], []
        for r in range(args.rounds):
            raw.append(raw_tokens_per_s(backend, args.max_tokens, seed=100 + r))
            layer.append(layer_tokens_per_s(model, args.max_tokens, seed=100 + r))
    raw_med, layer_med = statistics.median(raw), statistics.median(layer)
    print(f"raw llama_cpp:   {raw_med:6.1f} tokens/s  (rounds: {', '.join(f'{x:.1f}' for x in raw)})")
    print(f"longform layer:  {layer_med:6.1f} tokens/s  (rounds: {', '.join(f'{x:.1f}' for x in layer)})")
    print(f"layer/raw ratio: {layer_med / raw_med:.3f}  (target >= 0.95)")


if __name__ == "__main__":
    main()
