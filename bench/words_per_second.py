"""Each writing method's speed on the embedded model as a share of the model's raw decode rate.

    .venv/bin/python bench/words_per_second.py [--words 10000] [--methods agentwrite,direct] [--threads 1]
    .venv/bin/python bench/words_per_second.py --quick          # 1,000 words: a smoke run

For each method: the raw decode rate (words per second the same llama.cpp instance emits from a
one-line prompt: nothing to read, the floor of any pipeline's cost) is measured just before and
just after the method writes the LongWrite-Ruler's first English prompt of that length (no request
cache); the ratio is the method's words per second over the mean of the two raw rates. Planning,
prompt reading, continuations and regenerations are what the method pays above the floor.
Aim: >= 0.67 for agentwrite at 10,000 words. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, raw_decode, say
from _manuscripts import pick
from longform.pipelines import registry

from longform.llm import LLMConfig, load_model


async def write(model, method: str, prompt: str, words: int) -> tuple[int, float, dict]:
    settings = registry.settings_for(method)
    t0 = time.perf_counter()
    r = await registry.get(method).run(model, prompt, words, seed=0, settings=settings)
    return r.words, time.perf_counter() - t0, r.usage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=10000, help="target length (a LongWrite-Ruler length)")
    ap.add_argument("--methods", default=",".join(registry.names()))
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: robust on a shared machine)")
    ap.add_argument("--quick", action="store_true", help="1,000 words: a smoke run")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    words = 1000 if args.quick else args.words
    methods = args.methods.split(",")
    (_, _, prompt), = pick([words], 1)
    model = load_model(LLMConfig(no_cache=True, n_threads=args.threads))
    backend = model.backend
    rows = []
    say(f"words/s on the embedded model, {words:,}-word ruler prompt: {prompt!r}; {args.threads} thread(s)")
    raw_decode(backend, max_tokens=128, seeds=(9,))  # warm-up, discarded: the first calls after loading run
    # slower (measured 47 vs 55 words/s), and a low "before" rate would flatter every ratio
    for method in methods:
        before = raw_decode(backend)
        n, seconds, usage = asyncio.run(write(model, method, prompt, words))
        after = raw_decode(backend)
        floor = (before["words_per_s"] + after["words_per_s"]) / 2
        wps = n / seconds if seconds > 0 else 0.0
        ratio = wps / floor if floor > 0 else 0.0
        rows.append({"method": method, "target": words, "words": n, "seconds": round(seconds, 1),
                     "words_per_s": round(wps, 2), "raw_words_per_s": round(floor, 2),
                     "raw_before": round(before["words_per_s"], 2), "raw_after": round(after["words_per_s"], 2),
                     "raw_tokens_per_s": round((before["tokens_per_s"] + after["tokens_per_s"]) / 2, 1),
                     "ratio": round(ratio, 3), "calls": usage.get("calls"),
                     "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens")})
        say(f"{method:<13} {n:>6} words in {seconds:6.0f}s = {wps:5.1f} words/s; raw decode {floor:5.1f} words/s "
            f"(before {before['words_per_s']:.1f}, after {after['words_per_s']:.1f}); ratio {ratio:.3f}"
            + ("  (aim >= 0.67 at 10k)" if method == "agentwrite" else ""))
    emit(args.json, {"bench": "words_per_second", "words": words, "threads": args.threads, "rows": rows})


if __name__ == "__main__":
    main()
