"""TRL training of long-output writer models: `longform train sft|dpo|rm|grpo`.

    from longform.train import run_training
    path = run_training("sft", "configs/train/cpu-smoke-sft.yaml", {"max_steps": 20})

One file a trainer (sft.py, dpo.py, rm.py, grpo.py), each with its config dataclass; runner.py is the
shared driver (checks, length policy, resume, saving, record). A run resumes from the newest
complete checkpoint in OUTPUT_DIR/checkpoints; the returned folder loads as `transformers:PATH`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS = ("sft", "dpo", "rm", "grpo")


def run_training(kind: str, config: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> Path:
    from longform.train.runner import run_training as _run

    return _run(kind, config, overrides)


__all__ = ["KINDS", "run_training"]
