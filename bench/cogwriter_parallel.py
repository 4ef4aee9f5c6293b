"""CogWriter's parallel unit writers: wall time of the writing phase at concurrency 4 against 1.

1. The simulated OpenAI-compatible server (bench/sim_server.py) with 4 slots at a fixed token rate:
   the same run (same prompt, requirements and seed) at concurrency 1 and 4. Prints the writing
   phase's wall time for each and the ratio (the aim: <= 0.35), and the whole run's.
2. The embedded model (one llama.cpp thread serves every call): the same run at concurrency 1 and 4;
   the ratio shows that concurrency does not slow it down (and the two manuscripts are compared).

    .venv/bin/python bench/cogwriter_parallel.py                      # both parts
    .venv/bin/python bench/cogwriter_parallel.py --skip-embedded --tokens-per-s 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from longform.pipelines import cogwriter

from longform.llm import LLMConfig, load_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.sim_server import SimServer

PROMPTS = ROOT / "bench" / "unit_prompts.jsonl"


class PhaseClock:
    """Progress sink that timestamps the writing phase (plan done -> every unit written once)."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def event(self, kind: str, **d: Any) -> None:
        if kind == "phase":
            self.marks[f"{d['name']}_{d['at']}"] = time.monotonic()

    @property
    def writing_s(self) -> float:
        return self.marks["write_done"] - self.marks["write_start"]


def prompt(pid: str) -> dict[str, Any]:
    for line in PROMPTS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] == pid:
            return row
    raise SystemExit(f"no prompt {pid!r} in {PROMPTS}")


async def one(cfg: LLMConfig, row: dict[str, Any], target: int, seed: int) -> tuple[Any, float, float, int]:
    model = load_model(cfg)
    clock = PhaseClock()
    t0 = time.monotonic()
    try:
        r = await cogwriter.run(model, row["prompt"], target, seed=seed, progress=clock,
                                settings=cogwriter.CogWriterSettings(requirements=row["requirements"]))
    finally:
        await model.aclose()
    return r, clock.writing_s, time.monotonic() - t0, model.calls


def sim_part(args: argparse.Namespace) -> dict[str, Any]:
    row = prompt(args.prompt)
    out: dict[str, Any] = {}
    with SimServer(slots=4, tokens_per_s=args.tokens_per_s) as srv:
        for conc in (1, 4):
            srv.reset()
            cfg = LLMConfig(model="openai:sim", base_url=srv.base_url, max_concurrency=conc, no_cache=True)
            r, writing, total, calls = asyncio.run(one(cfg, row, args.target or row["target_words"], args.seed))
            st = srv.stats()
            out[conc] = {"writing_s": writing, "total_s": total, "calls": calls, "words": r.words,
                         "max_in_flight": st["max_in_flight"], "requests": st["requests"]}
            print(f"sim, concurrency {conc}: writing phase {writing:.2f}s, whole run {total:.2f}s, {calls} calls, "
                  f"{r.words} words, server max in flight {st['max_in_flight']}", flush=True)
    ratio = out[4]["writing_s"] / out[1]["writing_s"]
    print(f"sim server (4 slots x {args.tokens_per_s:g} tok/s, {row['id']}, {row['requirements']['units']['count']} units): "
          f"writing phase at concurrency 4 / concurrency 1 = {ratio:.3f} (aim <= 0.35); whole run "
          f"{out[4]['total_s'] / out[1]['total_s']:.3f}", flush=True)
    return {"ratio": ratio, "runs": out}


def embedded_part(args: argparse.Namespace) -> dict[str, Any]:
    row = prompt(args.embedded_prompt)
    out: dict[str, Any] = {}
    texts = {}
    for conc in (1, 4):
        cfg = LLMConfig(model="embedded", n_threads=args.threads, max_concurrency=conc, no_cache=True)
        r, writing, total, calls = asyncio.run(one(cfg, row, args.embedded_words, args.seed))
        texts[conc] = r.text
        out[conc] = {"writing_s": writing, "total_s": total, "calls": calls, "words": r.words}
        print(f"embedded, concurrency {conc}: writing phase {writing:.1f}s, whole run {total:.1f}s, {calls} calls, "
              f"{r.words} words", flush=True)
    ratio = out[4]["writing_s"] / out[1]["writing_s"]
    print(f"embedded ({row['id']}, {args.embedded_words} words): writing phase at concurrency 4 / concurrency 1 = "
          f"{ratio:.3f}; whole run {out[4]['total_s'] / out[1]['total_s']:.3f}; same manuscript: "
          f"{texts[1] == texts[4]}", flush=True)
    return {"ratio": ratio, "runs": out, "same_text": texts[1] == texts[4]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompt", default="diary-lighthouse", help="unit prompt id for the simulated server")
    ap.add_argument("--target", type=int, default=None, help="words (default: the prompt's)")
    ap.add_argument("--tokens-per-s", type=float, default=50.0, help="simulated server: tokens a second per request")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--embedded-prompt", default="months-farm")
    ap.add_argument("--embedded-words", type=int, default=480)
    ap.add_argument("--threads", type=int, default=1, help="embedded model CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    figures = {"sim": sim_part(args)}
    if not args.skip_embedded:
        figures["embedded"] = embedded_part(args)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
