"""The iterate loop: per iteration, self-instruct -> generate -> extend -> filter -> train generator
-> train extender; the next iteration generates and extends with the checkpoints just trained.

    OUT/NAME/loop.json            the config's fingerprint (a rerun must match; `iterations` may grow)
    OUT/NAME/iter-N/state.json    which steps are done (a done step is never run again)
    OUT/NAME/iter-N/record.json   counts, mean/median lengths, S_l, training losses, the models used
    OUT/NAME/summary.md|json      one row per iteration

A killed run is resumed by running the same command again.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from longform.errors import UserError
from longform.selflengthen import records, steps
from longform.selflengthen.config import SelfLengthenConfig, check_spec
from longform.selflengthen.journal import StepState
from longform.shard_store import atomic_write_text

STEPS = ("self_instruct", "generate", "extend", "filter", "train_generator", "train_extender")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_run_dir(cfg: SelfLengthenConfig) -> None:
    """The run folder belongs to this config (or is new)."""
    path = cfg.run_dir / "loop.json"
    if path.is_file():
        prev = json.loads(path.read_text())
        if prev.get("fingerprint") != cfg.fingerprint():
            raise UserError(f"{cfg.run_dir} holds a run with another config; pick another `name` (or --set name=...) "
                            f"or delete {cfg.run_dir} to start over (only `iterations` may change between reruns)")
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"fingerprint": cfg.fingerprint(), "config": cfg.to_dict()},
                                       ensure_ascii=False, indent=2) + "\n")


def next_models(state: StepState, current: dict[str, str], backend: str = "transformers") -> dict[str, str]:
    """The specs the next iteration uses: this iteration's checkpoints where it trained them."""
    out = dict(current)
    for role in ("generator", "extender"):
        s = state.summary(f"train_{role}")
        if s.get("checkpoint"):
            out[role] = f"{backend}:{s['checkpoint']}"
    return out


def run_step(name: str, ctx: steps.IterationContext, state: StepState) -> dict[str, Any]:
    t0 = time.monotonic()
    ctx.log(f"iteration {ctx.iteration}: {name} ...")
    filt = state.summary("filter")
    if name == "self_instruct":
        summary = asyncio.run(steps.self_instruct(ctx))
    elif name == "generate":
        summary = asyncio.run(steps.generate(ctx))
    elif name == "extend":
        summary = asyncio.run(steps.extend(ctx))
    elif name == "filter":
        summary = steps.filter_step(ctx)
    elif ctx.cfg.train.skip:
        summary = {"skipped": "train.skip is set"}
    elif not filt.get("kept"):
        summary = {"skipped": "no extension passed the filters: nothing to train on"}
    else:
        role = name.removeprefix("train_")
        previous = getattr(ctx, role)
        previous_path = previous.split(":", 1)[1] if previous.startswith(("transformers:", "vllm:/")) else None
        summary = steps.train_one(ctx, role, previous_path)
    state.mark(name, summary, time.monotonic() - t0)
    ctx.log(f"iteration {ctx.iteration}: {name} done: {json.dumps(summary, ensure_ascii=False)[:300]}")
    return summary


def run_loop(cfg: SelfLengthenConfig, log: Callable[[str], None] = _stderr) -> list[dict[str, Any]]:
    """Run (or resume) every iteration; returns the per-iteration records."""
    check_run_dir(cfg)
    models = {"generator": cfg.models.generator, "extender": cfg.models.extender}
    instructor = cfg.models.instructor or cfg.models.generator
    out: list[dict[str, Any]] = []
    for i in range(1, cfg.iterations + 1):
        iter_dir = cfg.run_dir / f"iter-{i}"
        state = StepState(iter_dir)
        for role, spec in models.items():
            check_spec(spec, f"iteration {i} {role}", str(cfg.run_dir))
        if state.data.get("models") and state.data["models"] != {**models, "instructor": instructor}:
            raise UserError(f"{iter_dir} was run with other models ({state.data['models']}); delete {iter_dir} "
                            "to run it again with the current ones")
        state.note("models", {**models, "instructor": instructor})
        ctx = steps.IterationContext(cfg, i, iter_dir, models["generator"], models["extender"], instructor, log)
        for name in STEPS:
            if state.done(name):
                log(f"iteration {i}: {name} already done (skipped)")
                continue
            run_step(name, ctx, state)
        rec = records.iteration_record(i, iter_dir, {**models, "instructor": instructor},
                                       {n: state.summary(n) for n in STEPS})
        records.write_iteration_record(iter_dir, rec)
        out.append(rec)
        table = records.write_summary(cfg.run_dir, out, cfg.to_dict())
        models = next_models(state, models, cfg.models.checkpoint_backend)
    log(table)
    return out

