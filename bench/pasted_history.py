"""Prompt tokens per output word: agentwrite against AgentWrite the original's way (every call is
given all the text written so far), run side by side on the embedded model.

    .venv/bin/python bench/pasted_history.py [--lengths 2000,5000,10000,20000] [--threads 1]
    .venv/bin/python bench/pasted_history.py --quick         # 2,000 and 5,000 words
    .venv/bin/python bench/pasted_history.py --sim           # on the simulated server (bench/sim_server.py)

With --sim the calls go to the simulated OpenAI-compatible server (what `make bench` uses: a GPU
endpoint's stand-in, minutes instead of hours for 20,000 words): its replies are filler words,
so the figures measure what the pipeline sends (prompt tokens counted as characters / 4 by the
server), not prose.

Both runs use the same planner, section writer, length control and seed; only what a call sees
of the text so far differs: agentwrite's memory (digests of recent sections and the tail of the
last one) against the whole text (the original LongWriter AgentWrite). The pasted-history model
gets a window large enough for its prompts (past SmolLM2's 8,192 trained tokens its prose is not
meaningful; the token counts are), and the bench reports where an 8,192-token window would have
overflowed. Runs are checkpointed under out/bench/pasted/ (a re-run resumes; the request cache
makes finished calls free). Prints per length both figures and the ratio pasted / ours.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, emit, say
from _manuscripts import pick
from longform.agents import memory as memory_agent
from longform.agents import section_writer
from longform.pipelines import agentwrite

from longform.llm import LLMConfig, load_model

WINDOW = 8192  # the embedded model's trained window


@contextlib.contextmanager
def pasted_history() -> Iterator[None]:
    """Inside this block agentwrite's memory holds the whole text written so far and every section
    prompt shows all of it (where agentwrite shows digests and a tail)."""
    remember, summary_text = memory_agent.remember, section_writer.summary_text

    def remember_all(memory: dict[str, Any], title: str, text: str, **_: Any) -> dict[str, Any]:
        block = text.strip() if section_writer.is_continued_part(title) else f"## {title}\n\n{text.strip()}"
        full = "\n\n".join(x for x in (memory.get("full", ""), block) if x)
        return {"digests": [], "tail": "", "full": full}

    memory_agent.remember = remember_all
    section_writer.summary_text = lambda memory: memory.get("full", "")
    try:
        yield
    finally:
        memory_agent.remember, section_writer.summary_text = remember, summary_text


def overflow_point(calls_path: Path, sections: list[dict[str, Any]]) -> int | None:
    """Words written before the first call whose prompt + completion budget exceeds WINDOW."""
    before, total = {}, 0
    for s in sections:
        before[s["index"] + 1] = total
        total += int(s.get("words", 0))
    for line in calls_path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if not str(rec.get("tag", "")).startswith("section-"):
            continue
        need = rec["usage"]["prompt_tokens"] + rec["params"]["max_tokens"]
        if need > WINDOW:
            k = int(str(rec["tag"]).split("-")[1].split(":")[0])
            return before.get(k)
    return None


async def run_one(model, variant: str, length: int, prompt: str, out: Path, seed: int) -> dict[str, Any]:
    d = out / f"{variant}-{length}"
    d.mkdir(parents=True, exist_ok=True)
    ctx = pasted_history() if variant == "pasted" else contextlib.nullcontext()
    with ctx:
        r = await agentwrite.run(model, prompt, length, seed=seed, checkpoint_path=d / "checkpoint.sqlite",
                                 thread_id=f"{variant}-{length}-{seed}", resume=True)
    u = r.usage
    return {"variant": variant, "target": length, "words": r.words, "calls": u.get("calls", 0),
            "prompt_tokens": u.get("prompt_tokens", 0), "completion_tokens": u.get("completion_tokens", 0),
            "prompt_tokens_per_word": round(u.get("prompt_tokens", 0) / max(1, r.words), 3),
            "sections": r.sections}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="2000,5000,10000,20000")
    ap.add_argument("--quick", action="store_true", help="2,000 and 5,000 words only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "pasted"))
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--sim", action="store_true", help="the simulated server instead of the embedded model")
    args = ap.parse_args()
    if args.sim:
        from sim_server import SimServer

        with SimServer(slots=2, tokens_per_s=5000) as srv:
            run_all(args, srv.base_url)
    else:
        run_all(args, None)


def run_all(args: argparse.Namespace, sim_url: str | None) -> None:
    lengths = [2000, 5000] if args.quick else [int(x) for x in args.lengths.split(",")]
    out = Path(args.out) / ("sim" if sim_url else "")
    out.mkdir(parents=True, exist_ok=True)
    cache = str(out / "requests.sqlite")
    rows = []
    say(f"{'target':>7} {'variant':<11}{'words':>7}{'calls':>6}{'prompt tok':>12}{'tok/word':>10}  note")
    for length, _, prompt in pick(lengths, 1):
        n_ctx = max(WINDOW, 1024 * math.ceil((1.7 * length + 4096) / 1024))
        pair = {}
        for variant, ctx_size in (("agentwrite", WINDOW), ("pasted", n_ctx)):
            calls = out / f"{variant}-{length}" / "calls.jsonl"
            if sim_url:
                shutil.rmtree(calls.parent, ignore_errors=True)  # a fresh run: the server is cheap
                model = load_model(LLMConfig(model="openai:sim", base_url=sim_url, n_ctx=ctx_size, no_cache=True,
                                             call_log_path=str(calls)))
            else:
                model = load_model(LLMConfig(n_ctx=ctx_size, n_threads=args.threads, cache_path=cache,
                                             call_log_path=str(calls)))
            try:
                row = asyncio.run(run_one(model, variant, length, prompt, out, args.seed))
            finally:
                asyncio.run(model.aclose())
            note = ""
            if variant == "pasted":
                at = overflow_point(calls, row["sections"])
                row["overflows_8k_at_words"] = at
                note = f"an {WINDOW:,}-token window overflows after ~{at:,} words" if at is not None else "fits 8k"
            row.pop("sections")
            pair[variant] = row
            say(f"{length:>7} {variant:<11}{row['words']:>7}{row['calls']:>6}{row['prompt_tokens']:>12,}"
                f"{row['prompt_tokens_per_word']:>10.2f}  {note}")
        ratio = pair["pasted"]["prompt_tokens_per_word"] / max(1e-9, pair["agentwrite"]["prompt_tokens_per_word"])
        say(f"{length:>7} ratio pasted / agentwrite prompt tokens per word: {ratio:.2f}")
        rows.append({"target": length, "agentwrite": pair["agentwrite"], "pasted": pair["pasted"], "ratio": round(ratio, 3)})
    emit(args.json, {"bench": "pasted_history", "rows": rows})


if __name__ == "__main__":
    main()
