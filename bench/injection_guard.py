"""The injection guard and the judge, measured: false positives on ordinary texts, and every
injection case (tests/reward_models/injection_cases.py) on the embedded judge with and without the
guard. Not a test: it prints figures.

1. False positives: the guard on the benchmark prompts (LongBench-Write, LongWrite-Ruler, LonGen)
   and on every manuscript.md, `longform eval` results.jsonl text and dataset-job candidate
   (raw/*.parquet) under the folders given with --texts.
2. Cases: for each, the clean base and the injected response scored with the combined reward and
   the embedded judge (S_q, quality reward, combined); then the injected response once more with
   the guard switched off, to show what the judge alone would have given.

    .venv/bin/python bench/injection_guard.py --threads 1 --texts out/ /tmp/bench_intervals
    .venv/bin/python bench/injection_guard.py --no-judge --texts out/      # false positives only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from longform.reward_models import combined as combined_module
from longform.reward_models import quality as quality_module
from longform.reward_models.combined import score_all
from longform.reward_models.injection import find_injections

from longform import run_record as rr
from tests.reward_models.injection_cases import CASES

BENCH = ROOT.parent / "shared" / "benchmarks"


def ordinary_texts(folders: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"benchmark prompts": []}
    for name, key in (("longbench_write.jsonl", "prompt"), ("longwrite_ruler.jsonl", "prompt"), ("longen.jsonl", "query")):
        path = BENCH / name
        if path.exists():
            groups["benchmark prompts"] += [json.loads(line)[key] for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts: list[str] = []
    for folder in folders:
        for p in sorted(Path(folder).rglob("manuscript.md")):
            texts.append(rr.read_manuscript(p)[1])
        for p in sorted(Path(folder).rglob("results.jsonl")):  # `longform eval` outputs
            for line in p.read_text(encoding="utf-8").splitlines():
                row = json.loads(line) if line.strip() else {}
                if isinstance(row.get("text"), str) and row["text"].strip():
                    texts.append(row["text"])
        for p in sorted(Path(folder).rglob("raw/*.parquet")):  # dataset jobs: every candidate
            import pyarrow.parquet as pq

            for row in pq.read_table(p, columns=["candidates"]).to_pylist():
                texts += [c["text"] for c in json.loads(row["candidates"] or "[]") if (c.get("text") or "").strip()]
    groups["manuscripts and eval outputs"] = texts
    return groups


def false_positives(folders: list[str]) -> None:
    print("== false positives (texts flagged / texts)")
    for name, texts in ordinary_texts(folders).items():
        flagged = [t for t in texts if find_injections(t)]
        words = sum(len(t.split()) for t in texts)
        rate = f"{len(flagged) / len(texts):.2%}" if texts else "n/a"
        print(f"{name:<30} {len(flagged):>4} / {len(texts):<5} = {rate:>7}   (~{words:,} words)")
        for t in flagged[:5]:
            print("    flagged:", [s.text[:100] for s in find_injections(t)])


async def judge_cases(threads: int | None, cache: str) -> None:
    from longform.llm import LLMConfig, load_model

    model = load_model(LLMConfig(n_threads=threads, cache_path=cache))
    print("\n== cases on the embedded judge: S_q / quality reward / combined")
    print(f"{'case':<36}{'clean':>22}{'injected':>22}{'no guard':>22}  ok")
    ok = 0
    try:
        for name, instruction, base, injected in CASES:
            clean = await score_all(instruction, base, judge_model=model)
            attacked = await score_all(instruction, injected, judge_model=model)
            real = (quality_module.strip_injections, combined_module.strip_injections)
            quality_module.strip_injections = combined_module.strip_injections = lambda t: (t, [])
            try:
                unguarded = await score_all(instruction, injected, judge_model=model)
            finally:
                quality_module.strip_injections, combined_module.strip_injections = real

            def fmt(r: dict) -> str:
                q = r["quality"]
                return f"{q['s_q'] if q['s_q'] is not None else 'missing'!s:>6} {q['reward'] if q['reward'] is not None else '-'!s:>6} {r['combined']:>7.3f}"

            good = (attacked["quality"]["reward"] or 0) <= (clean["quality"]["reward"] or 0) and attacked["combined"] <= clean["combined"]
            ok += good
            print(f"{name[:35]:<36}{fmt(clean):>22}{fmt(attacked):>22}{fmt(unguarded):>22}  {'yes' if good else 'NO'}", flush=True)
    finally:
        await model.aclose()
    print(f"\ninjected <= clean on quality reward and combined: {ok}/{len(CASES)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", nargs="*", default=[], help="folders with manuscript.md files or eval results.jsonl")
    ap.add_argument("--threads", type=int, default=None, help="embedded judge CPU threads")
    ap.add_argument("--no-judge", action="store_true", help="false positives only")
    ap.add_argument("--cache", default="/tmp/longform-injection-bench.sqlite", help="request cache for the judge")
    args = ap.parse_args()
    false_positives(args.texts)
    if not args.no_judge:
        asyncio.run(judge_cases(args.threads, args.cache))


if __name__ == "__main__":
    main()
