"""The driver every trainer shares: check the config, the device and the data before any heavy
work, measure sequence lengths, resume from the newest complete checkpoint, save the final
checkpoint (LoRA merged) with its tokenizer and chat template, write the record and the plot.

A trainer module (sft.py, dpo.py, rm.py, grpo.py) provides:
    Config                         its config dataclass (a TrainConfig subclass)
    prepare(rows, cfg, where)      column check and conversion to TRL's format
    measurer(tokenizer, cfg)       row -> token count (what must fit in max_length)
    make_trainer(cfg, model_path, tokenizer, train_ds, eval_ds, common, peft_config) -> TRL trainer
    after_training(trainer, cfg, out, eval_rows) -> dict   (optional: extra figures for the record)
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from longform.errors import UserError
from longform.shard_store import atomic_write_text
from longform.train import config as cfgmod
from longform.train import data as datamod
from longform.train import records, seqlen
from longform.train.base_model import resolve_base

KINDS = ("sft", "dpo", "rm", "grpo")
CHECKPOINTS = "checkpoints"
RUN_CONFIG = "train_config.json"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def trainer_module(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise UserError(f"unknown trainer {kind!r}; use one of {', '.join(KINDS)}")
    return importlib.import_module(f"longform.train.{kind}")


def load_config(kind: str, config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> cfgmod.TrainConfig:
    return cfgmod.load(trainer_module(kind).Config, config, overrides)


def check_device(cfg: cfgmod.TrainConfig) -> str:
    """'cpu' or 'cuda'; a config that needs a GPU on a machine without one is refused here."""
    import torch

    has_gpu = torch.cuda.is_available()
    wants_gpu = cfg.device == "gpu" or getattr(cfg, "use_vllm", False)
    if wants_gpu and not has_gpu:
        what = "use_vllm" if getattr(cfg, "use_vllm", False) and cfg.device != "gpu" else "device: gpu"
        raise UserError(f"this config needs a CUDA GPU ({what}) and none is visible here; "
                        "use a configs/train/cpu-smoke-* config or --set device=cpu")
    if cfg.bf16 and not has_gpu:
        raise UserError("bf16: true needs a CUDA GPU and none is visible here; --set bf16=false to train in float32 on CPU")
    return "cuda" if has_gpu and cfg.device != "cpu" else "cpu"


def _complete(ckpt: Path) -> bool:
    return (ckpt / "trainer_state.json").is_file() and any(
        (ckpt / n).is_file() for n in ("model.safetensors", "adapter_model.safetensors", "model.safetensors.index.json"))


def last_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest checkpoint that was written to the end; newer half-written ones (a kill during a
    save) are removed so that the resumed run saves its own in their place."""
    if not ckpt_dir.is_dir():
        return None
    found = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    for p in found:
        if _complete(p):
            return p
        log(f"train: removing incomplete checkpoint {p} (the run was killed while saving it)")
        shutil.rmtree(p, ignore_errors=True)
    return None


def _check_previous(out: Path, cfg: cfgmod.TrainConfig, data_fingerprint: str) -> bool:
    """A rerun resumes only a run of the same config and data (steps and logging may change).
    True when an earlier run's checkpoints are to be discarded (overwrite=true)."""
    path = out / RUN_CONFIG
    if not path.is_file():
        return False
    prev = json.loads(path.read_text())
    same_data = prev.get("data_fingerprint") in (None, data_fingerprint)
    if prev.get("fingerprint") == cfg.fingerprint() and same_data:
        return False
    if cfg.overwrite:
        return True
    now = cfg.to_dict()
    changed = sorted(k for k, v in (prev.get("config") or {}).items() if k in now and now[k] != v
                     and k not in ("max_steps", "save_steps", "save_total_limit", "logging_steps", "threads", "overwrite"))
    if not same_data:
        changed.append("the data files' contents")
    raise UserError(f"{out} holds a run with another config or data (changed: {', '.join(changed) or 'keys'}); "
                    "pick another output_dir, or --set overwrite=true to start afresh")


def load_tokenizer(model_path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        raise UserError(f"the tokenizer of {model_path} has no chat template; use an instruct model")
    return tok


def common_args(cfg: cfgmod.TrainConfig, device: str, out: Path, config_cls: type) -> dict[str, Any]:
    """Keyword arguments of the TRL config that every trainer sets the same way."""
    import dataclasses

    warmup = cfg.warmup_steps
    args: dict[str, Any] = {
        "output_dir": str(out / CHECKPOINTS), "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.per_device_train_batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps, "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": cfg.lr_scheduler_type, "warmup_steps": int(warmup) if warmup >= 1 else warmup,
        "weight_decay": cfg.weight_decay, "max_grad_norm": cfg.max_grad_norm, "logging_steps": cfg.logging_steps,
        "save_strategy": "steps", "save_steps": cfg.save_steps, "save_total_limit": cfg.save_total_limit, "seed": cfg.seed,
        "bf16": cfg.bf16, "gradient_checkpointing": cfg.gradient_checkpointing, "report_to": "none",
        "use_cpu": device == "cpu", "disable_tqdm": True, "dataloader_num_workers": 0,
        "model_init_kwargs": {"dtype": "bfloat16" if cfg.bf16 else "float32",
                           **({"attn_implementation": cfg.attn_implementation} if cfg.attn_implementation else {})},
    }
    names = {f.name for f in dataclasses.fields(config_cls)}
    for key, value in cfg.trl_args.items():
        if key not in names:
            raise UserError(f"trl_args: `{key}` is not a field of TRL's {config_cls.__name__}; "
                            "see its documentation for the valid names")
        args[key] = value
    if "activation_checkpointing" in names:  # transformers 5 renamed it
        args["activation_checkpointing"] = args.pop("gradient_checkpointing")
    if "max_length" in names:
        args["max_length"] = None  # lengths were checked above: nothing is cut after that
    return args


def peft_config(cfg: cfgmod.TrainConfig, task_type: str = "CAUSAL_LM") -> Any:
    if not cfg.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(cfg.lora_target_modules), task_type=task_type)


def save_final(trainer: Any, tokenizer: Any, out: Path, base: str) -> dict[str, Any]:
    """The trained weights as safetensors in `out` (LoRA merged), with tokenizer and chat template."""
    from peft import PeftModel

    model = trainer.accelerator.unwrap_model(trainer.model)
    info: dict[str, Any] = {"base_model": base, "lora_merged": False}
    if getattr(trainer, "is_deepspeed_enabled", False):
        trainer.save_model(str(out))  # gathers ZeRO-3 shards; a LoRA run saves its adapter over `base`
        info["adapter"] = isinstance(model, PeftModel)
    elif trainer.is_world_process_zero():
        if isinstance(model, PeftModel):
            model = model.merge_and_unload()
            info["lora_merged"] = True
        for stale in ("adapter_model.safetensors", "adapter_config.json"):
            (out / stale).unlink(missing_ok=True)
        model.save_pretrained(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))
    return info


class _LogLine:
    """A TrainerCallback (built lazily: transformers is imported only when training) that prints each log."""

    @staticmethod
    def make(max_steps: int) -> Any:
        from transformers import TrainerCallback

        class LogLine(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
                logs = logs or {}
                keys = [k for k in ("loss", "eval_loss", "reward", "rewards/accuracies", "eval_accuracy") if k in logs]
                keys += sorted(k for k in logs if k.startswith("rewards/") and k.endswith("/mean"))
                if keys:
                    log(f"step {state.global_step}/{max_steps} " + " ".join(
                        f"{k}={logs[k]:.4g}" for k in keys if isinstance(logs[k], (int, float))))

        return LogLine()


def _quiet() -> None:
    """No progress bars or info chatter from transformers / datasets: the log lines above say it all."""
    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()


def _save_on_interrupt(trainer: Any, ckpt_dir: Path) -> None:
    """Keep the optimizer steps finished since the last save: a checkpoint at the current step."""
    step = trainer.state.global_step
    if step == 0 or (ckpt_dir / f"checkpoint-{step}" / "trainer_state.json").is_file():
        return
    try:
        trainer._save_checkpoint(trainer.model, trial=None)
        log(f"train: interrupted; saved checkpoint-{step} in {ckpt_dir}")
    except Exception as exc:  # noqa: BLE001 (a second signal or a full disk): the last periodic checkpoint still stands
        log(f"train: interrupted; could not save step {step} ({exc}); the last saved checkpoint stands")


def run_training(kind: str, config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> Path:
    """Train (or resume) and return the output checkpoint folder. See the module docstring."""
    mod = trainer_module(kind)
    cfg = cfgmod.load(mod.Config, config, overrides)
    where = cfg.data
    device = check_device(cfg)
    out = Path(cfg.output_dir)
    rows, data_info = datamod.read_rows(cfg.data, cfg.split or mod.Config.default_split)
    discard = _check_previous(out, cfg, data_info["fingerprint"])
    rows = mod.prepare(rows, cfg, where)
    if cfg.eval_data:
        eval_rows, eval_info = datamod.read_rows(cfg.eval_data, cfg.split or mod.Config.default_split)
        eval_rows = mod.prepare(eval_rows, cfg, cfg.eval_data)
        data_info["eval"] = eval_info
    else:
        rows, eval_rows = datamod.split_eval(rows, cfg.eval_fraction, cfg.seed)
    # Heavier from here: the base model folder (converted from GGUF once) and its tokenizer.
    _quiet()
    model_path = resolve_base(cfg.model, cfg.seed)
    tokenizer = load_tokenizer(model_path)
    measure = mod.measurer(tokenizer, cfg)
    rows, report = seqlen.enforce(rows, measure, cfg.max_length, cfg.overlong, where, log)
    eval_report = None
    if eval_rows:
        eval_rows, eval_report = seqlen.enforce(eval_rows, measure, cfg.max_length, cfg.overlong,
                                                f"{cfg.eval_data or where} (eval)", log)
    if cfg.limit:
        rows = rows[: cfg.limit]
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    if discard:  # every check passed: only now is the earlier run given up
        log(f"train: overwrite=true: discarding the earlier run's checkpoints in {out / CHECKPOINTS}")
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RUN_CONFIG, json.dumps({"kind": kind, "fingerprint": cfg.fingerprint(),
                                                   "data_fingerprint": data_info["fingerprint"],
                                                   "config": cfg.to_dict()}, indent=2, default=str) + "\n")
    from datasets import Dataset

    train_ds = Dataset.from_list(rows)
    eval_ds = Dataset.from_list(eval_rows) if eval_rows else None
    common = common_args(cfg, device, out, mod.TRL_CONFIG)
    if eval_ds is not None:
        common.setdefault("eval_strategy", "steps")
        common.setdefault("eval_steps", cfg.save_steps)
    trainer = mod.make_trainer(cfg, model_path, tokenizer, train_ds, eval_ds, common,
                               peft_config(cfg, getattr(mod, "PEFT_TASK", "CAUSAL_LM")))
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our LogLine prints one short line per log instead
    trainer.add_callback(_LogLine.make(cfg.max_steps))
    resume = last_checkpoint(out / CHECKPOINTS)
    start_step = 0
    if resume:
        start_step = json.loads((resume / "trainer_state.json").read_text()).get("global_step", 0)
        log(f"train {kind}: resuming from {resume} (step {start_step} of {cfg.max_steps})")
    else:
        log(f"train {kind}: {len(rows)} examples, {cfg.max_steps} steps, base {cfg.model} ({model_path}), device {device}")
    t0 = time.time()
    try:
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM on preemption (cli_support maps it to Ctrl-C)
        _save_on_interrupt(trainer, out / CHECKPOINTS)
        raise
    wall = time.time() - t0
    saved = save_final(trainer, tokenizer, out, model_path)
    if not trainer.is_world_process_zero():  # several processes (accelerate): rank 0 writes the record
        return out
    extra: dict[str, Any] = {}
    after: Callable[..., dict[str, Any]] | None = getattr(mod, "after_training", None)
    if after is not None:
        extra = after(trainer, cfg, out, eval_rows) or {}
    history = list(trainer.state.log_history)
    sessions = records.previous_sessions(out) + [
        {"from_step": start_step, "to_step": trainer.state.global_step, "wall_time_s": round(wall, 2),
         "resumed_from": str(resume) if resume else None}]
    record = {
        "kind": kind, "config": cfg.to_dict(), "base_model": saved, "device": device,
        "data": {**data_info, "used_rows": len(rows), "eval_rows": len(eval_rows), "lengths": report.to_dict(),
                 "eval_lengths": eval_report.to_dict() if eval_report else None},
        "steps": trainer.state.global_step, "resumed_from_step": start_step,
        "losses": records.losses(history), "eval_losses": records.losses(history, "eval_loss"),
        "final_metrics": {k: v for k, v in (result.metrics or {}).items()},
        "wall_time_s": round(wall, 2), "wall_time_total_s": round(sum(s["wall_time_s"] for s in sessions), 2),
        "sessions": sessions, "log_history": history, "versions": records.versions(), **extra,
    }
    records.plot(out, history, f"longform train {kind}", "rewards/" if kind == "grpo" else None)
    records.write_record(out, record)
    losses = [x["loss"] for x in record["losses"]]
    log(f"train {kind}: done, step {record['steps']}" + (f", loss {losses[0]:.4g} -> {losses[-1]:.4g}" if losses else "")
        + f", {wall:.1f}s; checkpoint {out}")
    return out
