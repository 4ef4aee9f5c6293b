"""Per-token cost of llama-cpp-python's generation loop outside llama.cpp's decode: the library's
own path against TunedLlama's (longform.llm.tuned_llama), alternating on one model instance.

    .venv/bin/python bench/llama_loop.py [--rounds 3] [--threads 1]

Two calls, as the writers make them: a 600-token prose reply with the section writer's processors
(n-gram blocking, no early end) and a 300-token plan under the planner's JSON grammar. For each:
milliseconds a token that are not prefill or decode (llama.cpp's own timers), the ratio
TunedLlama / library, and whether the prose replies are the same text (they must be: without a
grammar both paths run the same sampler chain). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import llama_cpp
from _common import emit, say
from longform.agents import planner

from longform.llm import GenParams
from longform.llm.embedded import LLAMA_THREAD, EmbeddedBackend
from longform.prompting import render_messages

PROSE = [{"role": "user", "content": "Write a long essay about the history of the sea and the people who sail it."}]
HISTORY = ("The harbour woke before dawn, and the fishing boats slipped out one by one.",
           "Trade routes crossed the ocean long before maps could show them.")


def other_ms_per_token(backend: EmbeddedBackend, messages: list, params: GenParams) -> tuple[float, str]:
    """Wall time minus llama.cpp's prefill and decode time, per completion token; and the text."""
    llm = backend._llama
    llm.reset()
    llama_cpp.llama_perf_context_reset(llm.ctx)
    t0 = time.perf_counter()
    out = LLAMA_THREAD.submit(backend._generate_sync, messages, params).result()
    wall_ms = (time.perf_counter() - t0) * 1000
    perf = llama_cpp.llama_perf_context(llm.ctx)
    return (wall_ms - perf.t_p_eval_ms - perf.t_eval_ms) / max(1, out.usage.completion_tokens), out.text


def library_path(llm: llama_cpp.Llama) -> None:
    llm._init_sampler = types.MethodType(llama_cpp.Llama._init_sampler, llm)
    llm.detokenize = types.MethodType(llama_cpp.Llama.detokenize, llm)
    llm.grammar_safety = None


def tuned_path(llm: llama_cpp.Llama, safety) -> None:
    for name in ("_init_sampler", "detokenize", "grammar_safety"):
        llm.__dict__.pop(name, None)
    llm.grammar_safety = safety


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    backend = EmbeddedBackend(n_threads=args.threads)
    plan_messages = render_messages("planner", "en", instruction="Write a 10000-word paper on the history of bridges.",
                                    n_sections=25, target_words=10000, per_section=400, asked=12)
    calls = {
        "prose, 600 tokens": (PROSE, GenParams(max_tokens=600, temperature=0.7, seed=1, min_tokens=590,
                                               no_repeat_ngram=6, history=HISTORY, repeat_penalty=1.1)),
        "plan JSON, 300 tokens": (plan_messages, GenParams(max_tokens=300, temperature=0.5, seed=1,
                                                           json_schema=planner.plan_schema(12), no_repeat_ngram=3)),
    }
    other_ms_per_token(backend, *calls["plan JSON, 300 tokens"])  # warm-up; builds the piece table and safety set
    safety = backend._llama.grammar_safety
    rows = []
    for label, (messages, params) in calls.items():
        lib, tuned, same = [], [], []
        for _ in range(args.rounds):
            library_path(backend._llama)
            ms, lib_text = other_ms_per_token(backend, messages, params)
            lib.append(ms)
            tuned_path(backend._llama, safety)
            ms, tuned_text = other_ms_per_token(backend, messages, params)
            tuned.append(ms)
            same.append(lib_text == tuned_text)
        row = {"call": label, "library_ms_per_token": statistics.median(lib), "tuned_ms_per_token": statistics.median(tuned),
               "same_text": sum(same), "rounds": args.rounds}
        row["ratio"] = row["tuned_ms_per_token"] / row["library_ms_per_token"]
        rows.append(row)
        say(f"{label}: outside decode {row['library_ms_per_token']:.2f} ms/token (library) -> "
            f"{row['tuned_ms_per_token']:.2f} (TunedLlama); ratio {row['ratio']:.2f}; "
            f"same text in {row['same_text']}/{args.rounds} rounds")
    emit(args.json, {"rows": rows, "threads": args.threads})


if __name__ == "__main__":
    main()
