"""Generation and scoring of an eval: every (model, method, sample), the same prompts for every
method, resumable, and a failure of one sample recorded with its reason while the run goes on.

Order: model by model (one model loaded at a time); inside a model, sample by sample and every
method on that sample before the next one, so a partial run already compares the methods.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from longform import run_record as rr
from longform.errors import LongformError, UserError
from longform.eval import benchmarks, journal, scoring
from longform.eval.config import EvalConfig
from longform.eval.display import EvalDisplay
from longform.eval.samples import Sample
from longform.llm import ChatModel, LLMConfig, load_model
from longform.llm.spec import parse_spec
from longform.pipelines import registry


@dataclass
class EvalState:
    """What a run has opened; the command writes the report from it even after an interrupt."""

    cfg: EvalConfig
    mod: ModuleType
    selection: benchmarks.Selection
    manifest: dict[str, Any]
    gens: journal.Journal
    judgements: journal.Journal
    session: dict[str, Any]
    generated: int = 0
    failed: int = 0
    judged: int = 0
    lock: Any = None  # the open, flock-ed lock file of the eval folder


def validate(cfg: EvalConfig) -> tuple[ModuleType, benchmarks.Selection]:
    """Everything checkable before a file is written: benchmark, methods, models, judge, selection."""
    mod = benchmarks.get(cfg.benchmark)
    if not cfg.methods:
        raise UserError(f"--method names no method: use one or more of {', '.join(registry.names())}")
    for m in cfg.methods:
        registry.get(m)
    if len(set(cfg.methods)) != len(cfg.methods):
        raise UserError(f"--method names a method twice: {','.join(cfg.methods)}")
    if not cfg.models:
        raise UserError("--model names no model: use e.g. --model embedded")
    for spec in cfg.models + ([cfg.judge] if cfg.judge else []):
        parse_spec(spec)
    check_models(cfg)
    if len(set(cfg.models)) != len(cfg.models):
        raise UserError(f"--model names a model twice: {','.join(cfg.models)}")
    if cfg.lang not in (None, "en", "zh"):
        raise UserError(f"--lang must be en or zh, got {cfg.lang!r}")
    if cfg.parallel < 1:
        raise UserError(f"--parallel must be at least 1, got {cfg.parallel}")
    if cfg.retries < 1:
        raise UserError(f"--retries must be at least 1, got {cfg.retries}")
    if cfg.lengths is not None and any(n <= 0 for n in cfg.lengths):
        raise UserError(f"--lengths must be positive word counts, got {','.join(map(str, cfg.lengths))}")
    if cfg.section_words is not None and not 50 <= cfg.section_words <= 5000:
        raise UserError(f"--section-words must be between 50 and 5000, got {cfg.section_words}")
    if cfg.judge:
        try:
            from longform.reward_models import quality  # noqa: F401
        except ImportError:
            raise UserError("--judge needs longform.reward_models.quality, which this install lacks; "
                            "run without --judge (S_q is then skipped)") from None
    selection = benchmarks.select(cfg.benchmark, data=cfg.data, lang=cfg.lang, lengths=cfg.lengths, limit=cfg.limit)
    return mod, selection


def check_models(cfg: EvalConfig) -> None:
    """What a model spec needs before any file is written: a remote backend is built (it checks its
    key and URL; no request is sent), an embedded GGUF path must exist."""
    from longform.llm import make_backend

    pairs = [(m, cfg.base_url) for m in cfg.models] + ([(cfg.judge, cfg.judge_base_url)] if cfg.judge else [])
    for spec, url in pairs:
        parsed = parse_spec(spec)
        if parsed.kind in ("openai", "litellm"):
            make_backend(cfg.llm_config(spec, None, base_url=url))
        elif parsed.kind == "embedded" and parsed.name and not Path(parsed.name).is_file():
            raise UserError(f"no GGUF file at {parsed.name}; pass `embedded:/path/to/model.gguf` with an existing file")


def open_eval(cfg: EvalConfig) -> EvalState:
    mod, selection = validate(cfg)
    ids = [s.id for s in selection.samples]
    manifest = journal.open_manifest(cfg.out, cfg.identity(), ids)
    held = journal.lock(cfg.out)
    manifest.update(
        benchmark_file=str(selection.data), benchmark_digest=selection.digest,
        methods=journal.merge_names(manifest["methods"], cfg.methods),
        models=journal.merge_names(manifest["models"], cfg.models),
        judges=journal.merge_names(manifest["judges"], [cfg.judge] if cfg.judge else []),
    )
    session = {"started_at": journal.now(), "methods": cfg.methods, "models": cfg.models, "judge": cfg.judge,
               "status": "running", "config": cfg.to_dict()}
    manifest.setdefault("sessions", []).append(session)
    journal.save_manifest(cfg.out, manifest)
    return EvalState(cfg, mod, selection, manifest, journal.Journal(cfg.out / journal.GENERATIONS),
                     journal.Journal(cfg.out / journal.JUDGEMENTS), session, lock=held)


def run_dir(out: Path, model: str, method: str, sample: Sample) -> Path:
    return out / journal.RUNS / journal.slug(model) / method / sample.id


def pending(st: EvalState, model: str) -> list[tuple[str, Sample]]:
    """(method, sample) pairs of `model` that still need generating: never finished, or failed and
    --retry-failed given."""
    todo = []
    for s in st.selection.samples:
        for method in st.cfg.methods:
            rec = st.gens.get(journal.gen_key(model, method, s.id))
            if rec is None or (rec.get("status") == "failed" and st.cfg.retry_failed):
                todo.append((method, s))
    return todo


async def generate_one(st: EvalState, model: ChatModel, spec: str, method: str, sample: Sample,
                       display: EvalDisplay) -> dict[str, Any]:
    """Generate (or resume) one sample with one method, score it, append it to the journal."""
    cfg = st.cfg
    d = run_dir(cfg.out, spec, method, sample)
    d.mkdir(parents=True, exist_ok=True)
    key = journal.gen_key(spec, method, sample.id)
    base = {"key": key, "model": spec, "method": method, "sample_id": sample.id, "run_dir": str(d.relative_to(cfg.out))}
    given = sample.extra.get("requirements") if cfg.given_requirements else None
    options = registry.MethodOptions(section_words=cfg.section_words, requirements=given)
    calls0 = model.calls
    t0 = time.monotonic()
    display.sample_start(spec, method, sample.id, sample.target_words)
    try:
        registry.check_input(method, sample.prompt, sample.target_words, options)
        settings = registry.settings_for(method, options)
        result = await registry.get(method).run(
            model, sample.prompt, sample.target_words, seed=cfg.seed, checkpoint_path=d / rr.CHECKPOINT,
            thread_id=f"{key}|seed={cfg.seed}", resume=True, progress=display, lang=sample.lang, settings=settings,
        )
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - one sample failing for good must not stop the eval
        reason = str(exc) if isinstance(exc, LongformError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, LongformError):
            rr.write_atomic(d / "error.txt", traceback.format_exc())
        rec = {**base, "status": "failed", "error": reason.splitlines()[0][:500] if reason else type(exc).__name__,
               "elapsed_s": round(time.monotonic() - t0, 3), "finished_at": journal.now()}
        st.gens.append(rec)
        st.failed += 1
        display.sample_done(rec, sample.target_words, 0)
        return rec
    elapsed = round(time.monotonic() - t0, 3)
    method_report = getattr(result, "report", None) or result.plan_meta.get("report")
    meta = rr.manuscript_meta(method=method, model=spec, instruction=sample.prompt, target_words=sample.target_words,
                              words=result.words, lang=result.lang, seed=cfg.seed)
    rr.write_manuscript(d, result.text, meta)
    if result.plan:
        rr.write_plan(d, result.plan, result.plan_meta, sample.target_words)
    rec = {
        **base, "status": "done", "text": result.text,
        "scores": scoring.sample_scores(st.mod, sample, result.text, method_report),
        "usage": result.usage, "backend_calls": model.calls - calls0, "elapsed_s": elapsed, "resumed": result.resumed,
        "sections": len(result.sections), "plan_fallback": result.plan_meta.get("fallback") if result.plan else None,
        "method_report": method_report, "finished_at": journal.now(),
    }
    st.gens.append(rec)
    st.generated += 1
    display.sample_done(rec, sample.target_words, result.words if model.calls > calls0 else 0)
    return rec


async def generate_model(st: EvalState, spec: str, load: Callable[[LLMConfig], ChatModel], display: EvalDisplay) -> None:
    todo = pending(st, spec)
    if not todo:
        return
    model = load(st.cfg.llm_config(spec, st.cfg.out / f"calls-{journal.slug(spec)}.jsonl"))
    st.session.setdefault("model_describe", {})[spec] = model.describe()
    sem = asyncio.Semaphore(st.cfg.parallel)
    by_id = {s.id: s for s in st.selection.samples}

    async def one(method: str, sample: Sample) -> None:
        async with sem:
            await generate_one(st, model, spec, method, by_id[sample.id], display)

    try:
        if st.cfg.parallel == 1:
            for method, sample in todo:
                await one(method, sample)
        else:
            await asyncio.gather(*(one(m, s) for m, s in todo))
    finally:
        st.session.setdefault("backend_usage", {})[spec] = {
            "calls": model.calls, "cache_hits": model.cache_hits,
            "prompt_tokens": model.usage.prompt_tokens, "completion_tokens": model.usage.completion_tokens}
        await model.aclose()


async def judge_all(st: EvalState, load: Callable[[LLMConfig], ChatModel], display: EvalDisplay) -> None:
    """S_q for every finished generation that this judge has not scored yet."""
    cfg = st.cfg
    if not cfg.judge:
        return
    by_id = {s.id: s for s in st.selection.samples}
    todo = [r for r in st.gens.records.values() if r.get("status") == "done" and r["sample_id"] in by_id
            and r["model"] in cfg.models and r["method"] in cfg.methods
            and st.judgements.get(journal.judge_key(r["model"], r["method"], r["sample_id"], cfg.judge)) is None]
    if not todo:
        return
    display.phase(f"judging {len(todo)} text(s) with {cfg.judge}")
    judge_model = load(cfg.llm_config(cfg.judge, cfg.out / f"calls-judge-{journal.slug(cfg.judge)}.jsonl",
                                      base_url=cfg.judge_base_url))
    try:
        for i, r in enumerate(todo, 1):
            key = journal.judge_key(r["model"], r["method"], r["sample_id"], cfg.judge)
            try:
                verdict = await scoring.judge_text(judge_model, by_id[r["sample_id"]], r["text"])
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - a judge failing for good leaves S_q missing, recorded
                verdict = {"s_q": None, "missing": True, "error": str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__}
            st.judgements.append({"key": key, "judge": cfg.judge, "model": r["model"], "method": r["method"],
                                  "sample_id": r["sample_id"], **verdict, "finished_at": journal.now()})
            st.judged += 1
            s_q = verdict.get("s_q")
            display.line(f"judged {i}/{len(todo)} {r['method']} {r['sample_id']}: "
                         f"S_q {'missing' if s_q is None else f'{s_q:.1f}'}")
    finally:
        st.session["judge_usage"] = {"calls": judge_model.calls, "cache_hits": judge_model.cache_hits,
                                     "prompt_tokens": judge_model.usage.prompt_tokens,
                                     "completion_tokens": judge_model.usage.completion_tokens}
        await judge_model.aclose()


async def run(st: EvalState, display: EvalDisplay, load: Callable[[LLMConfig], ChatModel] | None = None) -> None:
    cfg = st.cfg
    load = load or load_model
    total = len(cfg.models) * len(cfg.methods) * len(st.selection.samples)
    todo = {spec: pending(st, spec) for spec in cfg.models}
    n_todo = sum(len(v) for v in todo.values())
    display.start(total, total - n_todo, sum(s.target_words for v in todo.values() for _, s in v))
    for spec in cfg.models:
        await generate_model(st, spec, load, display)
    await judge_all(st, load, display)


def finish_session(st: EvalState, status: str) -> None:
    st.session.update(status=status, ended_at=journal.now(), generated=st.generated, failed=st.failed, judged=st.judged)
    journal.save_manifest(st.cfg.out, st.manifest)
    if st.lock is not None:
        st.lock.close()
        st.lock = None
