"""What the embedded default writes: length, repetition, structure and wasted decoding, on the
LongWrite-Ruler English prompts. Not a test: it prints figures.

    .venv/bin/python bench/prose_quality.py                         # English 2k and 10k, every prompt
    .venv/bin/python bench/prose_quality.py --lengths 2000 --limit 2 --threads 1

Per manuscript (agentwrite, the writer's default method):
  S_l          LongBench-Write length score against the prompt's target
  rep4         share of word 4-grams that repeat an earlier one (longform.text.ngram_repetition)
  head/kw      distinct headings per 1,000 words
  dec/word     decoded (completion) tokens per kept word, every call of the run included
  kept         tokens of the final manuscript / decoded tokens (1.0: nothing was cut or regenerated)
  eff          (words/s) / (raw decode tokens/s): the raw rate is measured with plain llama_cpp
               calls on the same model just before and after the manuscript (their mean), so a
               busy machine slows both; a writer that decoded only kept words at the raw rate, with
               free prompts, would reach 1 / (tokens per word), about 0.74 for this model
  load         the 1-minute load average when the manuscript finished (the machine has 2 cores)

Runs are checkpointed under --out and resumed when the bench is run again (a reused finished run
keeps the time it took); there is no request cache, so every figure is decoded in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _manuscripts import ROOT, make_model, pick, run_one

from longform import run_record as rr
from longform.llm.embedded import LLAMA_THREAD

RAW_PROMPT = [{"role": "user", "content": "Write a detailed essay about the history of tea in China and Britain."}]
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*\S)\s*$", re.MULTILINE)


def raw_decode_rate(model, max_tokens: int = 128, seed: int = 7) -> float:
    """Completion tokens/s of a plain llama_cpp call (no longform layer) on the run's model."""
    llama = model.backend._llama
    llama.reset()
    t0 = time.perf_counter()
    out = LLAMA_THREAD.submit(
        llama.create_chat_completion, messages=RAW_PROMPT, max_tokens=max_tokens, temperature=0.7, top_p=0.95,
        seed=seed,
    ).result()
    return out["usage"]["completion_tokens"] / (time.perf_counter() - t0)


def distinct_headings(text: str) -> int:
    return len({" ".join(h.lower().split()) for h in _HEADING.findall(text)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", default="2000,10000")
    ap.add_argument("--limit", type=int, default=4, help="English prompts per length (the ruler has 4)")
    ap.add_argument("--method", default="agentwrite")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "prose"))
    ap.add_argument("--threads", type=int, default=None, help="embedded model CPU threads (default: the program's)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import asyncio

    print(f"{'target':>7}{'k':>3}{'words':>7}{'S_l':>7}{'rep4':>6}{'head/kw':>8}{'dec/word':>9}{'kept':>6}"
          f"{'w/s':>7}{'raw t/s':>8}{'eff':>6}{'calls':>6}{'s':>6}{'load':>6}  prompt", flush=True)
    rows = []

    async def go() -> None:
        model = make_model(out, args.threads, no_cache=True)
        try:
            for length, k, prompt in pick(lengths, args.limit):
                before = raw_decode_rate(model)
                o = await run_one(model, out, args.method, length, k, prompt, args.seed)
                after = raw_decode_rate(model)
                d = out / f"{args.method}-{length}-{k}"
                _, body = rr.read_manuscript(d / rr.MANUSCRIPT)
                kept_tokens = model.backend.count_text(body)
                decoded = max(1, o.completion_tokens)
                raw = (before + after) / 2
                row = {
                    "length": length, "k": k, "words": o.words, "s_l": o.s_l, "rep4": o.repetition,
                    "headings_per_kw": distinct_headings(body) / max(1e-9, o.words / 1000),
                    "decoded_per_word": decoded / max(1, o.words), "kept": kept_tokens / decoded,
                    "words_per_s": o.words / max(1e-9, o.seconds), "raw_tps": raw,
                    "eff": o.words / max(1e-9, o.seconds) / raw, "calls": o.calls, "seconds": o.seconds,
                    "load": os.getloadavg()[0], "prompt": prompt,
                }
                rows.append(row)
                print(f"{length:>7}{k:>3}{o.words:>7}{o.s_l:>7.1f}{o.repetition:>6.2f}{row['headings_per_kw']:>8.2f}"
                      f"{row['decoded_per_word']:>9.2f}{row['kept']:>6.2f}{row['words_per_s']:>7.1f}{raw:>8.1f}"
                      f"{row['eff']:>6.3f}{o.calls:>6}{o.seconds:>6.0f}{row['load']:>6.1f}  {prompt[:50]}", flush=True)
        finally:
            await model.aclose()

    asyncio.run(go())
    (out / "prose_quality.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print()
    for length in lengths:
        rs = [r for r in rows if r["length"] == length]
        if not rs:
            continue

        def m(key: str, rs: list[dict] = rs) -> float:
            return statistics.mean(r[key] for r in rs)

        print(f"mean {length:>6}: S_l {m('s_l'):.1f}  rep4 {m('rep4'):.3f}  headings/kw {m('headings_per_kw'):.2f}  "
              f"decoded/word {m('decoded_per_word'):.2f}  kept {m('kept'):.2f}  eff {m('eff'):.3f}  n={len(rs)}  "
              f"(aim: rep4 <= 0.15, kept >= 0.5, S_l >= 95)")


if __name__ == "__main__":
    main()
