"""The five steps of one Self-Lengthen iteration. Each reads the previous step's file and writes its
own in the iteration folder; finished items go to a journal first, so a killed step resumes at
the item in flight (and, inside an item, the pipeline's checkpoint resumes at the call in flight).

    instructions.jsonl  <- self_instruct (journal: proposals.jsonl)
    initial.jsonl       <- generate      (journal: the same file; checkpoints: generate.sqlite)
    extended.jsonl      <- extend        (journal: the same file; checkpoints: extend.sqlite)
    kept.jsonl, gen_sft.jsonl, ext_sft.jsonl, filter.json  <- filter
    train/generator/, train/extender/  <- train (longform.train.run_training resumes by itself)
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.agents import extender as ext
from longform.agents import generator as gen
from longform.dataset_config import FilterConfig
from longform.errors import UserError
from longform.filters import check_output
from longform.lengths import parse_length
from longform.llm import ChatModel, LLMConfig, load_model
from longform.pipelines import selflengthen
from longform.scores import length_score
from longform.selflengthen import self_instruct as si
from longform.selflengthen.config import SelfLengthenConfig
from longform.selflengthen.journal import Journal, read_jsonl, write_jsonl
from longform.text import count_words

Log = Callable[[str], None]


@dataclass
class IterationContext:
    cfg: SelfLengthenConfig
    iteration: int
    dir: Path
    generator: str  # model specs used by this iteration
    extender: str
    instructor: str
    log: Log

    def path(self, name: str) -> Path:
        return self.dir / name


def open_model(ctx: IterationContext, spec: str, role: str) -> ChatModel:
    m = ctx.cfg.models
    return load_model(LLMConfig(
        model=spec, base_url=m.base_url, n_ctx=m.n_ctx, n_threads=m.threads, max_concurrency=m.concurrency,
        timeout_s=m.timeout_s, cache_path=m.cache_path or str(ctx.cfg.run_dir / "cache.sqlite"), no_cache=m.no_cache,
        call_log_path=str(ctx.path(f"calls-{role}.jsonl")),
    ))


def record_id(text: str, *parts: Any) -> str:
    return hashlib.sha256("\x00".join([text, *map(str, parts)]).encode("utf-8")).hexdigest()[:12]


def target_for(instruction: str, default: int) -> int:
    spec = parse_length(instruction)
    return spec.target_words if spec else default


# --- 1. self-instruct ----------------------------------------------------------------------------------


async def self_instruct(ctx: IterationContext) -> dict[str, Any]:
    c = ctx.cfg.self_instruct
    seeds = si.load_seeds(c.seeds)
    if c.count > 0 and len(seeds) < 2:
        raise UserError(f"seed file {c.seeds} has only {len(seeds)} usable instruction(s); self-instruct shows two "
                        "examples a call: add at least one more")
    journal = Journal(ctx.path("proposals.jsonl"), key="attempt")
    done = journal.load()
    pool = list(seeds)
    seen = {si.norm(s.instruction) for s in seeds}
    kept: list[dict[str, Any]] = []
    for a in done.values():
        seen.add(si.norm(a["proposal"]))
        if a["kept"]:
            kept.append(a)
            pool.append(si.Seed(a["proposal"], a["lang"]))
    limit = c.count * c.max_tries
    attempt = len(done)
    model = open_model(ctx, ctx.instructor, "instructor") if len(kept) < c.count and attempt < limit else None
    try:
        while len(kept) < c.count and attempt < limit:
            rng = random.Random(si.call_seed(ctx.cfg.seed, ctx.iteration, attempt, 0))
            text, lang, _ = await si.propose(model, pool, rng=rng, seed=si.call_seed(ctx.cfg.seed, ctx.iteration, attempt, 1),
                                             max_tokens=c.max_tokens, temperature=c.temperature, tag=f"instruct-{attempt}")
            reason = si.program_check(text, seen, min_words=c.min_words, max_words=c.max_words,
                                      min_stated_words=c.min_stated_words)
            suitable, fell_back = None, False
            if reason is None and c.judge:
                suitable, fell_back = await si.judge(model, text, lang, seed=si.call_seed(ctx.cfg.seed, ctx.iteration, attempt, 2),
                                                     tag=f"judge-{attempt}")
                reason = None if suitable else "judged_not_long"
            item = {"attempt": attempt, "proposal": text, "lang": lang, "reason": reason, "judge": suitable,
                    "judge_fallback": fell_back, "kept": reason is None}
            journal.append(item)
            if text:
                seen.add(si.norm(text))
            if item["kept"]:
                kept.append(item)
                pool.append(si.Seed(text, lang))
            ctx.log(f"  proposal {attempt + 1}: {'kept' if item['kept'] else reason}: {text[:80]!r}")
            attempt += 1
    finally:
        if model is not None:
            await model.aclose()
    rows = [{"id": record_id(a["proposal"]), "instruction": a["proposal"], "lang": a["lang"], "source": "self-instruct",
             "target_words": target_for(a["proposal"], ctx.cfg.generate.target_words)} for a in kept]
    if c.include_seeds and ctx.iteration == 1:
        rows += [{"id": record_id(s.instruction), "instruction": s.instruction, "lang": s.lang, "source": "seed",
                  "target_words": target_for(s.instruction, ctx.cfg.generate.target_words)} for s in seeds]
    if not rows:
        reasons = Counter(a["reason"] for a in journal.load().values())
        raise UserError(f"iteration {ctx.iteration}: self-instruct kept no instruction in {attempt} proposal(s) "
                        f"({', '.join(f'{k}: {v}' for k, v in reasons.items())}); raise self_instruct.max_tries, "
                        "use a stronger models.instructor, or set self_instruct.include_seeds: true")
    write_jsonl(ctx.path("instructions.jsonl"), rows)
    reasons = Counter(a["reason"] or "kept" for a in journal.load().values())
    return {"proposals": attempt, "kept": len(kept), "instructions": len(rows), "reasons": dict(reasons)}


# --- 2. generate -----------------------------------------------------------------------------------------


def _generator_settings(cfg: SelfLengthenConfig) -> selflengthen.SelfLengthenSettings:
    g = cfg.generate
    return selflengthen.SelfLengthenSettings(
        gen_tries=g.gen_tries,
        generator=gen.GeneratorSettings(max_tokens=g.max_tokens, temperature=g.temperature,
                                        repeat_penalty=g.repeat_penalty, state_target=g.state_target),
        extender=ext.ExtenderSettings(max_rounds=0),
    )


def _extender_settings(cfg: SelfLengthenConfig) -> selflengthen.SelfLengthenSettings:
    e = cfg.extend
    return selflengthen.SelfLengthenSettings(extender=ext.ExtenderSettings(
        max_rounds=e.max_rounds, growth=e.growth, max_round_calls=e.max_round_calls,
        round_words_per_call=e.round_words_per_call, max_call_tokens=e.max_call_tokens,
        temperature=e.temperature, repeat_penalty=e.repeat_penalty))


async def _each(items: list[dict[str, Any]], concurrency: int, work: Callable[[dict[str, Any]], Any]) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(item: dict[str, Any]) -> None:
        async with sem:
            await work(item)

    await asyncio.gather(*(one(i) for i in items))


async def generate(ctx: IterationContext) -> dict[str, Any]:
    cfg = ctx.cfg
    instructions = read_jsonl(ctx.path("instructions.jsonl"))
    journal = Journal(ctx.path("initial.jsonl"))
    done = journal.load()
    todo = [{**ins, "id": f"{ins['id']}-s{k}", "sample": k} for ins in instructions for k in range(cfg.generate.samples)]
    todo = [t for t in todo if t["id"] not in done]
    settings = _generator_settings(cfg)
    if todo:
        model = open_model(ctx, ctx.generator, "generator")
        try:
            async def work(t: dict[str, Any]) -> None:
                r = await selflengthen.run(
                    model, t["instruction"], t["target_words"], seed=cfg.seed * 7_919 + ctx.iteration * 101 + t["sample"],
                    lang=t["lang"], settings=settings, checkpoint_path=ctx.path("generate.sqlite"), thread_id=t["id"],
                    resume=True)
                first = r.plan_meta["first_response"]
                checks = r.sections[0].get("checks") or [{}]
                item = {**t, "generator": ctx.generator, "initial": first, "initial_words": count_words(first),
                        "check": checks[-1], "gen_calls": r.sections[0].get("calls"), "usage": r.usage}
                journal.append(item)
                ctx.log(f"  first response {t['id']}: {item['initial_words']} words")

            await _each(todo, cfg.generate.concurrency, work)
        finally:
            await model.aclose()
    rows = list(journal.load().values())
    words = [r["initial_words"] for r in rows]
    return {"responses": len(rows), "passed_check": sum(1 for r in rows if r["check"].get("passed")),
            **stats("initial_words", words)}


# --- 3. extend --------------------------------------------------------------------------------------------


def extension_target(initial_words: int, cfg: SelfLengthenConfig) -> int:
    return max(initial_words + 1, min(cfg.extend.max_target_words, math.ceil(initial_words * cfg.extend.factor)))


async def extend(ctx: IterationContext) -> dict[str, Any]:
    cfg = ctx.cfg
    initial = [r for r in read_jsonl(ctx.path("initial.jsonl")) if r["initial_words"] > 0]
    journal = Journal(ctx.path("extended.jsonl"))
    done = journal.load()
    todo = [r for r in initial if r["id"] not in done]
    settings = _extender_settings(cfg)
    if todo:
        model = open_model(ctx, ctx.extender, "extender")
        try:
            async def work(r: dict[str, Any]) -> None:
                target = extension_target(r["initial_words"], cfg)
                res = await selflengthen.run(
                    model, r["instruction"], target, seed=cfg.seed * 7_919 + ctx.iteration * 101 + r["sample"] + 50,
                    lang=r["lang"], settings=settings, first_response=r["initial"], extender=model,
                    checkpoint_path=ctx.path("extend.sqlite"), thread_id=r["id"], resume=True)
                item = {k: v for k, v in r.items() if k not in ("usage",)}
                item.update(extender=ctx.extender, extension_target=target, extended=res.text, extended_words=res.words,
                            rounds=res.plan_meta["rounds"], kept_rounds=res.plan_meta["kept_rounds"],
                            round_records=res.sections[1:], extend_usage=res.usage)
                journal.append(item)
                ctx.log(f"  extended {r['id']}: {r['initial_words']} -> {res.words} words "
                        f"({res.plan_meta['kept_rounds']}/{res.plan_meta['rounds']} rounds kept)")

            await _each(todo, cfg.extend.concurrency, work)
        finally:
            await model.aclose()
    rows = list(journal.load().values())
    return {"extended": len(rows), "grown": sum(1 for r in rows if r["extended_words"] > r["initial_words"]),
            **stats("extended_words", [r["extended_words"] for r in rows])}


# --- 4. filter --------------------------------------------------------------------------------------------


def filter_reasons(r: dict[str, Any], cfg: SelfLengthenConfig) -> tuple[list[str], dict[str, Any]]:
    """Why an extension is not training data (empty: it is), and its scores."""
    from longform.reward_models.format import format_scores

    f = cfg.filters
    fc = FilterConfig(min_length_score=0.0, max_ngram_repetition=f.max_ngram_repetition, min_words=f.min_words,
                      check_language=f.check_language, near_dup_threshold=None)
    check = check_output(r["extended"], required_words=r["extension_target"], lang=r["lang"], cfg=fc)
    fmt = format_scores(r["instruction"], r["extended"])
    reasons = []
    if r["extended_words"] <= f.min_growth * r["initial_words"]:
        reasons.append("not_grown")
    reasons += check.reasons
    if fmt["format_score"] < f.min_format_score:
        reasons.append("format")
    return reasons, {"format_score": fmt["format_score"], "repetition": round(check.repetition, 4)}


def filter_step(ctx: IterationContext) -> dict[str, Any]:
    cfg = ctx.cfg
    rows = read_jsonl(ctx.path("extended.jsonl"))
    kept, gen_rows, ext_rows, dropped = [], [], [], Counter()
    for r in rows:
        reasons, scores = filter_reasons(r, cfg)
        if reasons:
            dropped[reasons[0]] += 1
            continue
        kept.append({**r, **scores})
        gen_rows.append({"id": r["id"], "messages": gen.training_messages(
            r["instruction"], r["extended"], r["lang"], r["target_words"] if cfg.generate.state_target else None)})
        ext_rows.append({"id": r["id"], "messages": ext.training_messages(
            r["instruction"], r["initial"], r["extended"], r["lang"], seed=int(r["id"][:8], 16) ^ cfg.seed,
            keep=1 - cfg.train.drop_lines)})
    write_jsonl(ctx.path("kept.jsonl"), kept)
    write_jsonl(ctx.path("gen_sft.jsonl"), gen_rows)
    write_jsonl(ctx.path("ext_sft.jsonl"), ext_rows)
    return {"extended": len(rows), "kept": len(kept), "dropped": dict(dropped),
            **stats("kept_words", [r["extended_words"] for r in kept])}


# --- 5. train ---------------------------------------------------------------------------------------------


def train_one(ctx: IterationContext, role: str, previous: str | None) -> dict[str, Any]:
    """SFT of `role` (generator or extender) on this iteration's data; returns where it went."""
    from longform.train import run_training

    t = ctx.cfg.train
    data = ctx.path("gen_sft.jsonl" if role == "generator" else "ext_sft.jsonl")
    overrides = {"model": previous if (previous and t.from_previous) else t.base_model, "data": str(data),
                 "output_dir": str(ctx.path(f"train/{role}")), "lora": t.lora, "seed": ctx.cfg.seed + ctx.iteration,
                 **t.overrides, **(t.generator_overrides if role == "generator" else t.extender_overrides)}
    out = run_training("sft", t.config, overrides)
    record = _read_json(Path(out) / "training_record.json")
    losses = record.get("losses") or []
    return {"checkpoint": str(Path(out).resolve()), "base": overrides["model"], "steps": record.get("steps"),
            "rows": (record.get("data") or {}).get("used_rows"),
            "first_loss": round(losses[0]["loss"], 4) if losses else None,
            "last_loss": round(losses[-1]["loss"], 4) if losses else None}


def _read_json(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text()) if path.is_file() else {}


# --- figures ----------------------------------------------------------------------------------------------


def stats(name: str, values: list[int]) -> dict[str, Any]:
    import statistics

    if not values:
        return {f"{name}_mean": None, f"{name}_median": None}
    return {f"{name}_mean": round(statistics.fmean(values), 1), f"{name}_median": statistics.median(values)}


def mean_length_score(rows: list[dict[str, Any]], words_key: str, target_key: str) -> float | None:
    scores = [length_score(max(1, r[target_key]), r[words_key]) for r in rows]
    return round(sum(scores) / len(scores), 2) if scores else None

