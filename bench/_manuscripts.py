"""Shared by the manuscript benches: ruler prompts, one model, one run folder per (method, prompt).

Each run is checkpointed in its folder and resumed when the bench is run again, so an interrupted
bench loses at most one call, and benches that need the same run (same method, prompt and seed)
share it instead of writing it twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.pipelines import registry

from longform import run_record as rr
from longform.llm import LLMConfig, load_model
from longform.scores import length_score
from longform.text import detect_language, ngram_repetition

ROOT = Path(__file__).resolve().parents[1]
RULER = ROOT.parent / "shared" / "benchmarks" / "longwrite_ruler.jsonl"


def ruler_prompts(lang: str = "en") -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in RULER.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if detect_language(r["prompt"]) == lang]


def pick(lengths: list[int], per_length: int, lang: str = "en") -> list[tuple[int, int, str]]:
    """(length, k, prompt): the first `per_length` prompts of each length, in file order."""
    rows = ruler_prompts(lang)
    out = []
    for L in lengths:
        same = [r["prompt"] for r in rows if int(r["length"]) == L][:per_length]
        out += [(L, k, p) for k, p in enumerate(same)]
    return out


@dataclass
class Outcome:
    method: str
    length: int
    k: int
    prompt: str
    words: int
    s_l: float
    prompt_tokens: int
    completion_tokens: int
    calls: int
    seconds: float
    plan_fallback: bool | None
    repetition: float  # share of repeated word 4-grams: a loop can hit the length and still be junk

    @property
    def prompt_tokens_per_word(self) -> float:
        return self.prompt_tokens / max(1, self.words)


def make_model(out_root: Path, threads: int | None, no_cache: bool):
    return load_model(LLMConfig(call_log_path=str(out_root / "calls.jsonl"), no_cache=no_cache, n_threads=threads))


async def run_one(model, out_root: Path, method: str, length: int, k: int, prompt: str, seed: int) -> Outcome:
    d = out_root / f"{method}-{length}-{k}"
    d.mkdir(parents=True, exist_ok=True)
    previous = json.loads((d / "result.json").read_text()) if (d / "result.json").exists() else None
    t0 = time.monotonic()
    mod = registry.get(method)
    r = await mod.run(model, prompt, length, seed=seed, checkpoint_path=d / rr.CHECKPOINT,
                      thread_id=f"{method}-{length}-{k}-{seed}", resume=True)
    seconds = time.monotonic() - t0
    if previous and r.resumed and seconds < 5:  # a finished run, reused: keep the time it took
        seconds = previous["seconds"]
    s_l = length_score(length, r.words)
    meta = rr.manuscript_meta(method=method, model=model.describe().get("model", ""), instruction=prompt,
                              target_words=length, words=r.words, lang=r.lang, seed=seed)
    rr.write_manuscript(d, r.text, meta)
    if r.plan:
        rr.write_plan(d, r.plan, r.plan_meta, length)
    o = Outcome(method, length, k, prompt, r.words, s_l, int(r.usage.get("prompt_tokens", 0)),
                int(r.usage.get("completion_tokens", 0)), int(r.usage.get("calls", 0)), seconds,
                r.plan_meta.get("fallback") if r.plan else None, ngram_repetition(r.text, 4))
    rr.write_json(d / "result.json", {**o.__dict__, "prompt_tokens_per_word": o.prompt_tokens_per_word,
                                      "sections": r.sections, "usage": r.usage})
    return o


def run_all(jobs: list[tuple[str, int, int, str]], out_root: Path, threads: int | None, no_cache: bool, seed: int,
            on_done=None) -> list[Outcome]:
    async def go() -> list[Outcome]:
        model = make_model(out_root, threads, no_cache)
        try:
            results = []
            for method, length, k, prompt in jobs:
                o = await run_one(model, out_root, method, length, k, prompt, seed)
                results.append(o)
                if on_done:
                    on_done(o)
            return results
        finally:
            await model.aclose()

    out_root.mkdir(parents=True, exist_ok=True)
    return asyncio.run(go())
