"""Constrained unit prompts (bench/unit_prompts.jsonl): cogwriter, agentwrite and direct in the same run,
scored by the same rule checks (longform.constraints.check_text): the unit headings present in order,
and the share of the prompts' constraints satisfied (keywords in every unit they cover).

    .venv/bin/python bench/cogwriter_constraints.py --threads 1                 # embedded model, all prompts
    .venv/bin/python bench/cogwriter_constraints.py --limit 2 --methods cogwriter,direct
    .venv/bin/python bench/cogwriter_constraints.py --model openai:m --base-url URL --concurrency 8

cogwriter gets each prompt's requirements as JSON (what `writer --requirements` takes), or with
--extract reads them from the instruction as a user's run would. Every run is checkpointed in
OUT/<method>-<id>/ and resumed when the bench is run again; the table goes to OUT/table.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from longform.pipelines import registry

from longform import run_record as rr
from longform.constraints import check_text, spec
from longform.llm import LLMConfig, load_model
from longform.scores import length_score

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "bench" / "unit_prompts.jsonl"


def load_prompts(path: Path, ids: list[str] | None, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if ids:
        rows = [r for r in rows if r["id"] in ids]
    return rows[:limit] if limit else rows


async def run_one(model: Any, row: dict[str, Any], method: str, out: Path, seed: int, extract: bool) -> dict[str, Any]:
    d = out / f"{method}-{row['id']}"
    d.mkdir(parents=True, exist_ok=True)
    done = d / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    options = registry.MethodOptions(requirements=None if extract else row["requirements"])
    settings = registry.settings_for(method, options)
    t0 = time.monotonic()
    r = await registry.get(method).run(model, row["prompt"], row["target_words"], seed=seed,
                                       checkpoint_path=d / rr.CHECKPOINT, thread_id=f"{method}-{row['id']}-{seed}",
                                       resume=True, lang=row.get("lang"), **({"settings": settings} if settings else {}))
    req = spec.validate(spec.from_dict(row["requirements"]), row["target_words"])
    check = check_text(r.text, req, instruction=row["prompt"])
    result = {"id": row["id"], "method": method, "units": check.units, "words": r.words,
              "s_l": round(length_score(row["target_words"], r.words), 1), "target_words": row["target_words"],
              "found": check.found, "in_order": check.in_order, "exact_order": check.exact_order,
              "satisfied": check.satisfied, "constraints": check.literal_total,
              "check": check.to_dict(), "calls": r.usage.get("calls"), "seconds": round(time.monotonic() - t0, 1),
              "report": r.report or None}
    rr.write_manuscript(d, r.text, {"method": method, "id": row["id"], "target_words": row["target_words"],
                                    "words": r.words})
    rr.write_json(done, result)
    return result


def table(results: list[dict[str, Any]], methods: list[str]) -> str:
    lines = ["| prompt | units | method | words | S_l | units found | in order | all in order | constraints met |",
             "|---|---:|---|---:|---:|---:|---:|:---:|---:|"]
    for r in results:
        lines.append(f"| {r['id']} | {r['units']} | {r['method']} | {r['words']} | {r['s_l']:.1f} | {r['found']}/{r['units']} "
                     f"| {r['in_order']}/{r['units']} | {'yes' if r['exact_order'] else 'no'} | {r['satisfied']}/{r['constraints']} |")
    lines += ["", "| method | prompts | units in order | prompts with all units in order | constraints satisfied | mean S_l |",
              "|---|---:|---:|---:|---:|---:|"]
    for m in methods:
        rs = [r for r in results if r["method"] == m]
        if not rs:
            continue
        units = sum(r["units"] for r in rs)
        in_order = sum(r["in_order"] for r in rs)
        sat, tot = sum(r["satisfied"] for r in rs), sum(r["constraints"] for r in rs)
        lines.append(f"| {m} | {len(rs)} | {in_order}/{units} ({100 * in_order / units:.1f}%) | "
                     f"{sum(r['exact_order'] for r in rs)}/{len(rs)} | {sat}/{tot} ({100 * sat / max(1, tot):.1f}%) | "
                     f"{sum(r['s_l'] for r in rs) / len(rs):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", default=str(PROMPTS))
    ap.add_argument("--ids", default=None, help="comma-separated prompt ids (default: all)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--methods", default="cogwriter,agentwrite,direct")
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--threads", type=int, default=None, help="embedded model CPU threads")
    ap.add_argument("--concurrency", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extract", action="store_true", help="cogwriter reads the requirements from the instruction")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "cogwriter_constraints"))
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        registry.get(m)
    rows = load_prompts(Path(args.prompts), args.ids.split(",") if args.ids else None, args.limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    async def go() -> list[dict[str, Any]]:
        model = load_model(LLMConfig(model=args.model, base_url=args.base_url, n_threads=args.threads,
                                     max_concurrency=args.concurrency, no_cache=args.no_cache,
                                     call_log_path=str(out / "calls.jsonl")))
        results = []
        try:
            for row in rows:
                for m in methods:
                    r = await run_one(model, row, m, out, args.seed, args.extract)
                    print(f"{r['id']:18} {m:10} words {r['words']:5} S_l {r['s_l']:5.1f} units in order "
                          f"{r['in_order']}/{r['units']} constraints {r['satisfied']}/{r['constraints']} ({r['seconds']}s)",
                          file=sys.stderr, flush=True)
                    results.append(r)
        finally:
            await model.aclose()
        return results

    results = asyncio.run(go())
    text = table(results, methods)
    (out / "table.md").write_text(f"model: {args.model}; requirements: {'extracted' if args.extract else 'given as JSON'}\n\n"
                                  + text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
