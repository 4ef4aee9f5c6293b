"""`longform dataset`: build long-output SFT / DPO / reward-model datasets from instructions.

Usage:
    longform dataset build --config configs/dataset/default.yaml [--shard K/N] [--retry-failed]
                           [--model SPEC] [--base-url URL] [--cache FILE | --no-cache] [--push-to-hub REPO]
    longform dataset merge --config configs/dataset/X.yaml [SOURCE ...] [--allow-partial] [--push-to-hub REPO]
    longform dataset keys          (every config key with its default and meaning)

`build` is resumable: run the same command again after a crash or kill and it continues where the
journal stopped, never writing a record twice. Without --shard it writes the final splits itself;
with --shard K/N it writes only shard K's records (run N copies, e.g. as a SLURM or Kubernetes
array job), then `merge` joins the shards (SOURCE: dataset or shard folders copied from other
machines; default: the config's own dataset folder).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dataset", help="build SFT/DPO/RM datasets from instructions", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION", parser_class=type(p))

    b = sub.add_parser("build", help="generate (or resume) a dataset job", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--config", required=True, help="YAML job config (see configs/dataset/README.md)")
    b.add_argument("--shard", default=None, help="K/N: run only the records with int(id, 16) %% N == K")
    b.add_argument("--retry-failed", action="store_true", help="run again the records that failed for good last time")
    b.add_argument("--name", default=None, help="override the config's dataset name")
    b.add_argument("--out-dir", default=None, help="override output.dir (the dataset goes to OUT_DIR/NAME)")
    b.add_argument("--limit", type=int, default=None, help="override source.limit")
    _model_overrides(b)
    b.add_argument("--no-progress", action="store_true", help="plain log lines instead of the progress bar")
    b.add_argument("--push-to-hub", default=None, metavar="REPO", help="push the finished splits with `datasets`")
    b.set_defaults(run=run_build)

    m = sub.add_parser("merge", help="join shard folders into the final splits and card")
    m.add_argument("sources", nargs="*", help="dataset folders or shard folders (default: the config's dataset folder)")
    m.add_argument("--config", required=True, help="the job's YAML config (filters and card settings)")
    m.add_argument("--name", default=None, help="override the config's dataset name")
    m.add_argument("--out-dir", default=None, help="override output.dir")
    m.add_argument("--allow-partial", action="store_true", help="merge even when some shards are missing")
    m.add_argument("--push-to-hub", default=None, metavar="REPO", help="push the merged splits with `datasets`")
    m.set_defaults(run=run_merge)

    k = sub.add_parser("keys", help="print every config key with its default and help")
    k.set_defaults(run=run_keys)



def _model_overrides(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (overrides the config's model section)")
    g.add_argument("--model", default=None, help="model spec, e.g. embedded or openai:NAME")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible server URL")
    g.add_argument("--threads", type=int, default=None, help="embedded model: CPU threads (default: measured while it runs)")
    g.add_argument("--cache", default=None, help="request cache SQLite file")
    g.add_argument("--no-cache", action="store_true", default=None, help="do not use the request cache")
    g.add_argument("--call-log", default=None, help="append every model call to this JSONL file")


def _load(args: argparse.Namespace):
    from longform.dataset_config import load_config

    overrides: dict[str, Any] = {}
    for flag, key in (("name", "name"), ("out_dir", "output.dir"), ("limit", "source.limit"), ("model", "model.model"),
                      ("base_url", "model.base_url"), ("threads", "model.threads"), ("cache", "model.cache_path"), ("no_cache", "model.no_cache")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[key] = value
    return load_config(args.config, overrides)


def llm_config(cfg: Any, call_log: str | None = None):
    from longform.llm import LLMConfig, RetryPolicy

    m = cfg.model
    return LLMConfig(model=m.model, base_url=m.base_url, n_ctx=m.n_ctx, max_concurrency=m.concurrency,
                     n_threads=m.threads, timeout_s=m.timeout_s, stall_timeout_s=m.stall_timeout_s, cache_path=m.cache_path, no_cache=m.no_cache, call_log_path=call_log,
                     retry=RetryPolicy(max_attempts=m.retries, max_elapsed_s=m.retry_max_elapsed_s))


class RichJobProgress:
    """records done/total, kept/dropped/failed, tokens/s, ETA, on stderr."""

    def __init__(self, plain: bool):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.plain = plain or not self.console.is_terminal
        self.progress = None
        self.task = None
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()
        self.tokens0 = 0
        self.done = 0
        self.total = 0

    def __enter__(self) -> RichJobProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def start(self, total: int, done: int, counts: dict[str, int]) -> None:
        self.total, self.done, self.counts = total, done, dict(counts)
        self.started = time.monotonic()
        if self.plain:
            print(f"dataset: {total} record(s) in this shard, {done} already done", file=sys.stderr, flush=True)
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]records"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TextColumn("{task.fields[tps]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("records", total=total, completed=done, status=self._status(), tps="")

    def watch(self, activity: Any) -> RichJobProgress:
        """Print each retry of a model call (the wait a stalled or failing server causes)."""
        activity.listeners.append(self._on_activity)
        return self

    def _on_activity(self, kind: str, d: dict[str, Any]) -> None:
        if kind != "retry":
            return
        line = (f"call {d.get('tag') or '-'}: attempt {d.get('attempt')} failed ({d.get('cause')}); "
                f"retrying in {float(d.get('wait_s') or 0):.1f}s")
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def _status(self) -> str:
        c = self.counts
        return f"kept {c.get('kept', 0)}  dropped {c.get('dropped', 0)}  failed {c.get('failed', 0)}"

    def record(self, rec: dict[str, Any], completion_tokens: int) -> None:
        self.done += 1
        self.counts[rec["status"]] = self.counts.get(rec["status"], 0) + 1
        elapsed = max(1e-6, time.monotonic() - self.started)
        tps = f"{completion_tokens / elapsed:.1f} tok/s"
        if self.plain:
            cands = rec.get("candidates") or []
            best = cands[rec["chosen"]] if rec.get("chosen") is not None and cands else None
            detail = (f"{best['method']} {best['words']}/{rec['target_words']} words S_l {best['check']['length_score']:.0f}"
                      if best else (rec.get("error") or ""))
            print(f"[{self.done}/{self.total}] {rec['id']} {rec['status']}"
                  f"{' (' + rec['reason'] + ')' if rec.get('reason') else ''} {detail} | {self._status()} | {tps}",
                  file=sys.stderr, flush=True)
            return
        assert self.progress is not None and self.task is not None
        self.progress.update(self.task, advance=1, status=self._status(), tps=tps)


def run_keys(args: argparse.Namespace) -> int:
    from longform.dataset_config import describe_keys

    print(describe_keys())
    return 0


def run_build(args: argparse.Namespace) -> int:
    from longform.pipelines import dataset_builder as db

    cfg = _load(args)
    shard = db.parse_shard(args.shard) if args.shard else (0, 1)
    plan = db.plan_records(cfg, shard)  # input errors surface before the model loads or anything is written
    started = time.monotonic()
    try:
        summary = asyncio.run(_build(cfg, shard, plan, args))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (preemption): run_job has stored every finished record
        shard_flag = f" --shard {args.shard}" if args.shard else ""
        print(f"interrupted; finished records are saved in {db.work_dir(cfg, shard)}. Resume with: "
              f"longform dataset build --config {args.config}{shard_flag}", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - started
    c = summary.counts
    print(f"shard {shard[0]}/{shard[1]}: {summary.planned} record(s): {summary.skipped_done} already done, "
          f"{summary.written} written now ({c.get('kept', 0)} kept, {c.get('dropped', 0)} dropped, "
          f"{c.get('failed', 0)} failed in this shard) in {elapsed:.1f}s", file=sys.stderr)
    for rid, err in summary.failed:
        print(f"  failed {rid}: {err}", file=sys.stderr)
    if summary.failed:
        print("  (failed records are stored with their reason; `--retry-failed` runs them again)", file=sys.stderr)
    if shard[1] > 1:
        print(f"shard written to {summary.work_dir}; when all {shard[1]} shards are done: "
              f"longform dataset merge --config {args.config}", file=sys.stderr)
        return 0
    return _finish(cfg, None, False, args.push_to_hub)


async def _build(cfg: Any, shard: tuple[int, int], plan: Any, args: argparse.Namespace) -> Any:
    from longform.llm import load_model
    from longform.pipelines import dataset_builder as db

    model = load_model(llm_config(cfg, args.call_log))
    try:
        with RichJobProgress(args.no_progress).watch(model.activity) as progress:
            return await db.run_job(cfg, model, shard=shard, retry_failed=args.retry_failed, progress=progress, plan=plan)
    finally:
        await model.aclose()


def _finish(cfg: Any, work_dirs: list[Path] | None, allow_partial: bool, push: str | None) -> int:
    from longform.pipelines import dataset_builder as db

    st = db.finalize(cfg, work_dirs, allow_partial=allow_partial)
    drops = ", ".join(f"{k} {v}" for k, v in st["drops"].items()) or "none"
    print(f"dataset {cfg.dataset_dir}: {st['records']} records; kept {st['kept']}, dropped {st['dropped']} "
          f"({drops}), failed {st['failed']}; sft {st['sft']}, dpo {st['dpo']}, rm {st['rm']}"
          f"{'; pending ' + str(st['pending']) if st['pending'] else ''}", file=sys.stderr)
    print(str(cfg.dataset_dir))
    if push:
        push_to_hub(cfg.dataset_dir, push)
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from longform.pipelines import dataset_builder as db

    cfg = _load(args)
    work_dirs = db.find_work_dirs([Path(s) for s in args.sources] or [cfg.dataset_dir])
    return _finish(cfg, work_dirs, args.allow_partial, args.push_to_hub)


def push_to_hub(dataset_dir: Path, repo: str) -> None:
    """Push every split as a config of one Hub dataset repo, then the card and its histograms."""
    from datasets import load_dataset

    from longform.dataset_card import SPLITS

    for split in SPLITS:
        ds = load_dataset("parquet", data_dir=str(dataset_dir / split), split="train")
        ds.push_to_hub(repo, config_name=split, split="train")
    try:
        from huggingface_hub import HfApi
    except ImportError:  # pragma: no cover - datasets depends on it
        return
    api = HfApi()
    for f in ["README.md", *sorted(p.name for p in dataset_dir.glob("*.png"))]:
        api.upload_file(path_or_fileobj=str(dataset_dir / f), path_in_repo=f, repo_id=repo, repo_type="dataset")
    print(f"pushed {dataset_dir} to https://huggingface.co/datasets/{repo}", file=sys.stderr)

