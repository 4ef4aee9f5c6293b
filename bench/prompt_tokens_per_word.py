"""Prompt tokens per output word, agentwrite, embedded model: the ruler's first English 2k-word and
10k-word prompts. The memory (summary + tail) keeps each call's prompt flat, so the 10k run's ratio
should be at most 1.5x the 2k run's. Prints both figures and the ratio. Not a test.

    .venv/bin/python bench/prompt_tokens_per_word.py [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _manuscripts import ROOT, pick, run_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "ruler"),
                    help="run folders (shared with bench/ruler_length.py: a finished run is reused)")
    ap.add_argument("--threads", type=int, default=None, help="embedded model CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    jobs = [("agentwrite", L, k, p) for (L, k, p) in pick([2000, 10000], 1)]
    res = {o.length: o for o in run_all(jobs, Path(args.out), args.threads, args.no_cache, args.seed)}
    for L in (2000, 10000):
        o = res[L]
        print(f"agentwrite {L:>6} words target: {o.words:>6} words, {o.calls:>4} calls, {o.prompt_tokens:>7} prompt tokens, "
              f"{o.prompt_tokens / max(1, o.calls):7.0f} per call, {o.prompt_tokens_per_word:.3f} prompt tokens/word")
    ratio = res[10000].prompt_tokens_per_word / res[2000].prompt_tokens_per_word
    print(f"ratio 10k/2k prompt tokens per word: {ratio:.3f} (target <= 1.5)")


if __name__ == "__main__":
    main()
