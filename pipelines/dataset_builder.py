"""Dataset builder: turn a batch of instructions into SFT, DPO and reward-model datasets.

    instructions -> (augment) -> records (stable ids) -> shard K/N -> async workers
        -> per record: every method x sample writes a candidate; candidates are scored and ranked
        -> shard store (atomic Parquet parts + journal; resumable)
    finalize (or `merge` of N shards): re-check every candidate with the current filters,
        cross-record dedup in id order, write sft/ dpo/ rm/ raw/ Parquet + README card.

A record's id is sha256(instruction, target words, generation config)[:16], so the same job always
plans the same ids; shard K of N takes the ids with int(id, 16) % N == K.

Resumption: finished records are in the shard store (journal + parts); a resumed job skips them.
A record killed mid-way is written again, and the request cache serves the calls it already made.
A record whose model calls fail for good (ModelError after the layer's retries) is stored as
`failed` with its reason and the job goes on; `retry_failed=True` runs failed records again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from longform.pipelines import registry

from longform.dataset_config import DatasetConfig
from longform.errors import LongformError, UserError
from longform.filters import Deduplicator, check_output
from longform.instructions import Instruction, LoadReport, augment, load_instructions
from longform.llm.redact import redact_text
from longform.shard_store import ShardStore, atomic_write_text, latest_rows

SPLITS = ("sft", "dpo", "rm", "raw")


# --- planning -----------------------------------------------------------------------------------


@dataclass
class Task:
    id: str
    ins: Instruction


def record_id(ins: Instruction, cfg: DatasetConfig) -> str:
    key = {"instruction": ins.instruction, "target_words": ins.target_words, "generation": cfg.generation_key()}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def in_shard(rid: str, shard: tuple[int, int]) -> bool:
    k, n = shard
    return int(rid, 16) % n == k


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k_s, n_s = text.split("/")
        k, n = int(k_s), int(n_s)
    except ValueError:
        raise UserError(f"--shard must look like K/N (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= k < n:
        raise UserError(f"--shard {text}: need N >= 1 and 0 <= K < N")
    return k, n


@dataclass
class Plan:
    tasks: list[Task]  # this shard's records, in id order
    total_all_shards: int
    load: LoadReport
    instructions: int
    augmented: int


def plan_records(cfg: DatasetConfig, shard: tuple[int, int] = (0, 1)) -> Plan:
    src = cfg.source
    instructions, report = load_instructions(
        src.path, default_target_words=cfg.generation.default_target_words, field_name=src.field,
        skip_invalid=src.skip_invalid,
    )
    if src.shuffle_seed is not None:
        import random

        random.Random(src.shuffle_seed).shuffle(instructions)
    if src.limit is not None:
        instructions = instructions[: src.limit]
    a = cfg.augment
    expanded = augment(instructions, per_instruction=a.per_instruction, kinds=a.kinds, lengths=a.lengths,
                       keep_original=a.keep_original, seed=a.seed)
    by_id: dict[str, Task] = {}
    for ins in expanded:
        rid = record_id(ins, cfg)
        by_id.setdefault(rid, Task(rid, ins))
    tasks = sorted((t for t in by_id.values() if in_shard(t.id, shard)), key=lambda t: t.id)
    return Plan(tasks, len(by_id), report, len(instructions), sum(1 for i in expanded if i.augmented_from))


# --- one record -----------------------------------------------------------------------------------


def _pipeline(method: str):
    return registry.get(method)


def _settings(method: str, cfg: DatasetConfig) -> Any:
    return registry.settings_for(method, registry.MethodOptions(section_words=cfg.generation.section_words or None))


def rank_candidates(cands: list[dict[str, Any]], methods: list[str]) -> list[int]:
    """Candidate indexes best first: passing filters, then a higher combined reward, then higher S_l,
    then method order, then seed."""
    order = {m: i for i, m in enumerate(methods)}
    return sorted(range(len(cands)), key=lambda i: (
        not cands[i]["check"]["passed"], -_combined(cands[i]), -cands[i]["check"]["length_score"],
        order.get(cands[i]["method"], 99), cands[i]["seed"]))


def _combined(cand: dict[str, Any]) -> float:
    value = (cand.get("reward") or {}).get("combined")
    return -1.0 if value is None else float(value)


def candidate_reward(cand: dict[str, Any], rec: dict[str, Any], cfg: DatasetConfig) -> dict[str, Any]:
    """Every reward component of one candidate and the combined reward with the config's weights.
    Length and format are computed here from the text; the judge's and RM's verdicts were stored with
    the candidate when it was generated (so a finalize or merge never calls a model)."""
    from longform.reward_models.combined import combine
    from longform.reward_models.format import format_scores
    from longform.reward_models.injection import strip_injections
    from longform.reward_models.length import length_components

    rcfg = cfg.rewards.reward_config()
    con = rec.get("constraint")
    target = con if con else rec["target_words"]
    stripped, spans = strip_injections(cand["text"] or "")
    length = length_components(rec["instruction"], stripped, target, rcfg.length_cap)
    fmt = format_scores(rec["instruction"], cand["text"] or "")
    judged, rm = cand.get("judge"), cand.get("rm")
    values = {"length": length["reward"], "format": fmt["format_score"],
              "quality": judged.get("reward") if judged else None, "rm": rm.get("reward") if rm else None}
    combined, used = combine(values, rcfg.weights, bool(spans), rcfg.injection_penalty)
    return {
        "combined": combined, "length": values["length"], "format": values["format"], "quality": values["quality"],
        "rm": values["rm"], "s_l": length["s_l"], "longen": length["longen"], "s_q": judged.get("s_q") if judged else None,
        "judge_missing": bool(judged and judged.get("missing")), "format_parts": fmt,
        "injection": bool(spans), "injection_spans": [sp.to_dict() for sp in spans], "weights_used": used,
    }


def _check(cand: dict[str, Any], rec: dict[str, Any], cfg: DatasetConfig) -> dict[str, Any]:
    con = rec.get("constraint")
    c = check_output(cand["text"], required_words=rec["target_words"], lang=rec["lang"], cfg=cfg.filters,
                     finish_reason=cand.get("finish_reason"), interval=(con["lo"], con["hi"]) if con else None)
    return {**c.to_dict(), "passed": c.passed}


def decide(rec: dict[str, Any], cfg: DatasetConfig) -> dict[str, Any]:
    """(Re)score a generated record's candidates with the current filters and pick chosen/rejected."""
    cands = rec.get("candidates") or []
    for c in cands:
        c["check"] = _check(c, rec, cfg)
        c["reward"] = candidate_reward(c, rec, cfg)
    if rec["status"] == "failed" or rec.get("pre_drop"):
        return rec
    ranked = rank_candidates(cands, cfg.generation.methods)
    best = cands[ranked[0]]
    rec["chosen"] = ranked[0]
    rec["rejected"] = None
    rec["pair_skipped"] = None
    if best["check"]["passed"]:
        rec["status"], rec["reason"] = "kept", ""
        if len(ranked) > 1:
            worst = cands[ranked[-1]]
            margin = _combined(best) - _combined(worst)
            s_l_margin = best["check"]["length_score"] - worst["check"]["length_score"]
            if not worst["check"]["passed"] or (margin >= cfg.rewards.min_pair_margin
                                                and s_l_margin >= cfg.filters.min_pair_margin):
                rec["rejected"] = ranked[-1]
            else:
                rec["pair_skipped"] = "tie"
    else:
        rec["status"], rec["reason"] = "dropped", best["check"]["reasons"][0]
    return rec


async def score_candidates(rec: dict[str, Any], cfg: DatasetConfig, judge_model: Any = None, rm: Any = None) -> None:
    """Store the judge's verdict and the RM's score with every candidate (through the LLM layer:
    cached, so a resumed record pays nothing twice; the tokens are counted in `usage`)."""
    rcfg = cfg.rewards.reward_config()
    cands = rec["candidates"]
    if judge_model is not None:
        from longform.reward_models.quality import judge

        verdicts = await asyncio.gather(*(
            judge(judge_model, rec["instruction"], c["text"], injection_penalty=rcfg.quality_injection_penalty,
                  tag=f"judge-{c['method']}-{c['seed']}") for c in cands))
        for c, v in zip(cands, verdicts, strict=True):
            c["judge"] = v.to_dict()
    if rm is not None:
        from longform.reward_models.quality import rm_scores

        scores = await asyncio.to_thread(rm_scores, rm, [(rec["instruction"], c["text"]) for c in cands],
                                         rcfg.quality_injection_penalty)
        for c, r in zip(cands, scores, strict=True):
            c["rm"] = r


async def generate_record(model: Any, task: Task, cfg: DatasetConfig, judge_model: Any = None,
                          rm: Any = None) -> dict[str, Any]:
    ins = task.ins
    rec: dict[str, Any] = {
        "id": task.id, "instruction": ins.instruction, "lang": ins.lang, "target_words": ins.target_words,
        "constraint": ins.constraint_dict(), "source": ins.source, "meta": ins.meta,
        "augmented_from": ins.augmented_from, "model": model.backend.model_id, "generation": cfg.generation_key(),
        "candidates": [], "status": "pending", "reason": "", "error": None,
    }
    g = cfg.generation
    if ins.target_words < g.min_target_words or ins.target_words > g.max_target_words:
        rec["status"] = "dropped"
        rec["reason"] = "target_too_short" if ins.target_words < g.min_target_words else "target_too_long"
        rec["pre_drop"] = True
        return rec

    async def one(method: str, sample: int) -> dict[str, Any]:
        seed = g.seed + sample
        res = await _pipeline(method).run(
            model, ins.instruction, ins.target_words, seed=seed, lang=ins.lang,
            thread_id=f"{task.id}-{method}-{seed}", **({"settings": s} if (s := _settings(method, cfg)) else {}),
        )
        finish = res.sections[-1].get("finish_reason") if res.sections else None
        return {
            "method": method, "seed": seed, "text": res.text, "words": res.words, "finish_reason": finish,
            "plan": res.plan, "plan_meta": res.plan_meta, "sections": res.sections, "usage": res.usage,
        }

    jobs = [one(m, s) for m in g.methods for s in range(g.samples)]
    try:
        rec["candidates"] = list(await asyncio.gather(*jobs))
        await score_candidates(rec, cfg, judge_model, rm)
    except LongformError as exc:
        rec["status"], rec["reason"], rec["error"] = "failed", type(exc).__name__, redact_text(str(exc))
        return rec
    except Exception as exc:  # noqa: BLE001 - one broken record must not stop a 6k-record job
        rec["status"], rec["reason"], rec["error"] = "failed", type(exc).__name__, redact_text(f"{type(exc).__name__}: {exc}")
        return rec
    rec["status"] = "generated"
    return decide(rec, cfg)


# --- the job --------------------------------------------------------------------------------------


class JobProgress(Protocol):
    def start(self, total: int, done: int, counts: dict[str, int]) -> None: ...

    def record(self, rec: dict[str, Any], completion_tokens: int) -> None: ...


class NullJobProgress:
    def start(self, total: int, done: int, counts: dict[str, int]) -> None:
        pass

    def record(self, rec: dict[str, Any], completion_tokens: int) -> None:
        pass


@dataclass
class JobSummary:
    work_dir: Path
    planned: int
    skipped_done: int
    written: int
    counts: dict[str, int] = field(default_factory=dict)  # status -> n over the whole shard
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, error) of failed records
    recovered: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0


def load_judge(cfg: DatasetConfig, model: Any) -> Any:
    """The judge of `rewards.judge`: the job's own model for `same`, else a ChatModel of that spec with
    the job's cache, retries and call log."""
    r, m = cfg.rewards, cfg.model
    if r.judge == "same" or (r.judge == m.model and not r.judge_base_url):
        return model
    from longform.llm import LLMConfig, RetryPolicy, load_model

    judge = load_model(LLMConfig(model=str(r.judge), base_url=r.judge_base_url, n_ctx=None, n_threads=m.threads,
                                 timeout_s=m.timeout_s, cache_path=m.cache_path, no_cache=m.no_cache,
                                 retry=RetryPolicy(max_attempts=m.retries, max_elapsed_s=m.retry_max_elapsed_s)))
    judge.call_log = getattr(model, "call_log", None)
    return judge


def work_dir(cfg: DatasetConfig, shard: tuple[int, int]) -> Path:
    return cfg.dataset_dir / "work" / f"shard-{shard[0]}-of-{shard[1]}"


def _check_work_dir(cfg: DatasetConfig, wd: Path, shard: tuple[int, int], plan: Plan) -> None:
    meta_path = wd / "job.json"
    meta = {"generation_hash": cfg.generation_hash(), "generation": cfg.generation_key(), "shard": list(shard),
            "planned": len(plan.tasks), "total_all_shards": plan.total_all_shards, "instructions": plan.instructions,
            "augmented": plan.augmented, "rows_read": plan.load.rows, "invalid_skipped": plan.load.invalid,
            "duplicate_instructions": plan.load.duplicates, "config": cfg.to_dict()}
    if meta_path.exists():
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        if old.get("generation_hash") != meta["generation_hash"]:
            raise UserError(
                f"{wd} was written with a different generation config ({old.get('generation')}); "
                f"pick a new `name` or delete {cfg.dataset_dir} to start over"
            )
    wd.mkdir(parents=True, exist_ok=True)
    atomic_write_text(meta_path, json.dumps(meta, ensure_ascii=False, indent=2))


async def run_job(cfg: DatasetConfig, model: Any, *, shard: tuple[int, int] = (0, 1), retry_failed: bool = False,
                  progress: JobProgress | None = None, plan: Plan | None = None,
                  max_records: int | None = None, judge_model: Any = None, rm: Any = None) -> JobSummary:
    """Generate every record of `shard` not yet in the shard store. `max_records` stops early (tests).
    `judge_model` (a ChatModel) and `rm` (a RewardModelScorer) score candidates when the config names them."""
    progress = progress or NullJobProgress()
    started = time.monotonic()
    plan = plan or plan_records(cfg, shard)
    own_judge = None
    if judge_model is None and cfg.rewards.judge:
        judge_model = own_judge = load_judge(cfg, model)
    if rm is None and cfg.rewards.rm:
        from longform.reward_models.quality import load_scorer

        rm = load_scorer(cfg.rewards.rm)
    wd = work_dir(cfg, shard)
    _check_work_dir(cfg, wd, shard, plan)
    store = ShardStore(wd).open()
    done = store.entries
    todo = [t for t in plan.tasks if t.id not in done or (retry_failed and done[t.id]["status"] == "failed")]
    if max_records is not None:
        todo = todo[:max_records]
    planned_ids = {t.id for t in plan.tasks}
    counts: dict[str, int] = {}
    for rid, e in done.items():
        if rid in planned_ids and not (retry_failed and e["status"] == "failed"):
            counts[e["status"]] = counts.get(e["status"], 0) + 1
    summary = JobSummary(wd, len(plan.tasks), len(plan.tasks) - len(todo), 0, counts, [], dict(store.recovered))
    progress.start(len(plan.tasks), len(plan.tasks) - len(todo), dict(counts))

    buffer: list[dict[str, Any]] = []
    oldest = [0.0]
    lock = asyncio.Lock()
    queue: asyncio.Queue[Task] = asyncio.Queue()
    for t in todo:
        queue.put_nowait(t)

    def flush() -> None:
        if buffer:
            store.write_part(list(buffer))
            buffer.clear()

    async def worker() -> None:
        while True:
            try:
                task = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            rec = await generate_record(model, task, cfg, judge_model, rm)
            async with lock:
                if not buffer:
                    oldest[0] = time.monotonic()
                buffer.append(rec)
                summary.written += 1
                summary.counts[rec["status"]] = summary.counts.get(rec["status"], 0) + 1
                if rec["status"] == "failed":
                    summary.failed.append((rec["id"], rec["error"] or rec["reason"]))
                if len(buffer) >= cfg.output.part_rows or time.monotonic() - oldest[0] >= cfg.output.flush_interval_s:
                    flush()
            progress.record(rec, model.usage.completion_tokens)

    try:
        await asyncio.gather(*(worker() for _ in range(min(cfg.generation.concurrency, max(1, len(todo))))))
    finally:
        flush()  # finished records are complete: keep them even when interrupted
        if own_judge is not None and own_judge is not model:
            await own_judge.aclose()
    summary.elapsed_s = time.monotonic() - started
    return summary


# --- finalizing: splits and card -------------------------------------------------------------------


def find_work_dirs(sources: list[Path]) -> list[Path]:
    """Shard work folders under each source (a dataset folder, its work/ folder, or a shard folder)."""
    out: list[Path] = []
    for s in sources:
        s = Path(s)
        if (s / "job.json").exists():
            out.append(s)
        elif (s / "work").is_dir():
            out.extend(sorted(p for p in (s / "work").iterdir() if (p / "job.json").exists()))
        elif s.is_dir():
            out.extend(sorted(p for p in s.iterdir() if (p / "job.json").exists()))
        else:
            raise UserError(f"{s} is not a dataset folder, a work folder or a shard folder")
    if not out:
        raise UserError(f"no shard work folders (with job.json) under {', '.join(map(str, sources))}")
    return out


@dataclass
class Collected:
    records: list[dict[str, Any]]  # one per id, in id order, re-decided with the current filters
    jobs: list[dict[str, Any]]
    missing_shards: list[int]
    pending: int  # planned records not yet in any store


def collect(cfg: DatasetConfig, work_dirs: list[Path], allow_partial: bool = False) -> Collected:
    jobs = []
    for wd in work_dirs:
        job = json.loads((wd / "job.json").read_text(encoding="utf-8"))
        job["_dir"] = str(wd)
        jobs.append(job)
    hashes = {j["generation_hash"] for j in jobs}
    if len(hashes) > 1:
        raise UserError("the shard folders were written with different generation configs: "
                        + "; ".join(f"{j['_dir']}: {j['generation']}" for j in jobs))
    ns = {j["shard"][1] for j in jobs}
    if len(ns) > 1:
        raise UserError("the shard folders split the job differently (N = "
                        + ", ".join(str(n) for n in sorted(ns)) + "); merge shards of one K/N split")
    n = ns.pop()
    have: dict[int, dict[str, Any]] = {}
    for j in jobs:
        k = j["shard"][0]
        if k in have:
            raise UserError(f"shard {k}/{n} appears twice: {have[k]['_dir']} and {j['_dir']}")
        have[k] = j
    missing = [k for k in range(n) if k not in have]
    if missing and not allow_partial:
        raise UserError(f"shard(s) {', '.join(f'{k}/{n}' for k in missing)} missing; run them, "
                        "or pass --allow-partial to merge what exists")
    rows: dict[str, dict[str, Any]] = {}
    for wd in work_dirs:
        # Read only: no recovery here (a shard job may still be writing into this folder).
        for rid, rec in latest_rows(ShardStore(wd).part_paths()).items():
            rows[rid] = rec  # ids are disjoint between shards; dedup defensively
    planned = sum(j["planned"] for j in jobs)
    records = [decide(rows[rid], cfg) for rid in sorted(rows)]
    return Collected(records, jobs, missing, max(0, planned - len(records)))


def finalize(cfg: DatasetConfig, work_dirs: list[Path] | None = None, *, out_dir: Path | None = None,
             allow_partial: bool = False) -> dict[str, Any]:
    """Write sft/ dpo/ rm/ raw/ and README.md from every shard's records. Returns the stats."""
    from longform import dataset_card
    from longform.shard_store import clean_stale

    out_dir = Path(out_dir or cfg.dataset_dir)
    work_dirs = work_dirs or find_work_dirs([cfg.dataset_dir])
    col = collect(cfg, work_dirs, allow_partial)
    dedup = Deduplicator(cfg.filters)
    for rec in col.records:  # id order: the result does not depend on which record finished first
        if rec["status"] != "kept":
            continue
        reason, other = dedup.check(rec["id"], rec["candidates"][rec["chosen"]]["text"])
        if reason:
            rec["status"], rec["reason"], rec["duplicate_of"] = "dropped", reason, other
    tables = dataset_card.build_tables(col.records)
    clean_stale(out_dir)
    stats = dataset_card.stats(col, tables)
    dataset_card.write_splits(out_dir, tables)
    from longform.pipelines import selflengthen_export  # the extender's split, when the job ran selflengthen

    stats["ext_sft"] = selflengthen_export.write_split(out_dir, col.records)
    dataset_card.write_card(out_dir, cfg, stats, col, tables)
    return stats
