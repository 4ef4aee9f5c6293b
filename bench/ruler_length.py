"""LongWrite-Ruler length: direct and agentwrite on the English ruler prompts (1k, 2k, 5k, 10k words)
with the embedded default model. Prints words and S_l per prompt, and the mean S_l per method and
length. Not a test: it prints figures.

    .venv/bin/python bench/ruler_length.py                       # all 4 English prompts per length
    .venv/bin/python bench/ruler_length.py --per-length 1 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _manuscripts import ROOT, pick, run_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="1000,2000,5000,10000")
    ap.add_argument("--per-length", type=int, default=4, help="English prompts per length (the ruler has 4)")
    ap.add_argument("--methods", default="direct,agentwrite")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "ruler"))
    ap.add_argument("--threads", type=int, default=None, help="embedded model CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    methods = args.methods.split(",")
    jobs = [(m, L, k, p) for (L, k, p) in pick(lengths, args.per_length) for m in methods]
    print(f"{'method':<11}{'target':>7}{'k':>3}{'words':>8}{'S_l':>7}{'prompt_tok/word':>17}{'calls':>7}{'s':>7}{'rep4':>6}  prompt",
          flush=True)

    def show(o):
        print(f"{o.method:<11}{o.length:>7}{o.k:>3}{o.words:>8}{o.s_l:>7.1f}{o.prompt_tokens_per_word:>17.2f}"
              f"{o.calls:>7}{o.seconds:>7.0f}{o.repetition:>6.2f}  {o.prompt[:60]}", flush=True)

    results = run_all(jobs, Path(args.out), args.threads, args.no_cache, args.seed, on_done=show)
    print()
    for m in methods:
        rs = [o for o in results if o.method == m]
        per = "  ".join(
            f"{L}: {statistics.mean(o.s_l for o in rs if o.length == L):.1f}" for L in lengths if any(o.length == L for o in rs)
        )
        print(f"mean S_l {m:<11} {statistics.mean(o.s_l for o in rs):6.1f}   ({per})   n={len(rs)}   "
              f"mean 4-gram repetition {statistics.mean(o.repetition for o in rs):.2f}")


if __name__ == "__main__":
    main()
