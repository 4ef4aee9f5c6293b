"""What a training run leaves beside its checkpoint: `training_record.json` (config, data
fingerprint, length report, steps, losses, wall time, versions) and `loss.png`."""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path
from typing import Any

from longform.shard_store import atomic_write_text

RECORD = "training_record.json"
PLOT = "loss.png"


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "trl", "peft", "accelerate", "datasets"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def losses(log_history: list[dict[str, Any]], key: str = "loss") -> list[dict[str, float]]:
    return [{"step": int(h["step"]), key: float(h[key])} for h in log_history if key in h and "step" in h]


def previous_sessions(out: Path) -> list[dict[str, Any]]:
    try:
        return list(json.loads((out / RECORD).read_text()).get("sessions") or [])
    except (OSError, ValueError):
        return []


def write_record(out: Path, record: dict[str, Any]) -> Path:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    record = {**record, "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = out / RECORD
    atomic_write_text(path, json.dumps(clean(record), indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def plot(out: Path, log_history: list[dict[str, Any]], title: str, extra_prefix: str | None = None) -> Path:
    """Training (and eval) loss against step; a second panel with the metrics under `extra_prefix`
    (e.g. GRPO's `rewards/` components) when there are any."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extra_keys = sorted({k for h in log_history for k in h if extra_prefix and k.startswith(extra_prefix)
                         and k.endswith("/mean")}) if extra_prefix else []
    panels = 2 if extra_keys else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4), squeeze=False)
    ax = axes[0][0]
    for key, style in (("loss", "-o"), ("eval_loss", "--s")):
        pts = [(h["step"], h[key]) for h in log_history if key in h and "step" in h]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, markersize=3, label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    if extra_keys:
        ax2 = axes[0][1]
        for key in extra_keys:
            pts = [(h["step"], h[key]) for h in log_history if key in h and "step" in h]
            ax2.plot([p[0] for p in pts], [p[1] for p in pts], "-o", markersize=3, label=key.removeprefix(extra_prefix))
        ax2.set_xlabel("step")
        ax2.set_ylabel("mean reward")
        ax2.set_title("reward components")
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8)
    fig.tight_layout()
    path = out / PLOT
    tmp = out / f".{PLOT}.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
