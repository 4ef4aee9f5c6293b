"""Per-iteration records (`iter-N/record.json`) and the run's summary (`summary.json`, `summary.md`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from longform.selflengthen.journal import read_jsonl
from longform.selflengthen.steps import mean_length_score, stats
from longform.shard_store import atomic_write_text


def iteration_record(iteration: int, iter_dir: Path, models: dict[str, str], steps: dict[str, Any]) -> dict[str, Any]:
    """Counts, mean and median lengths and S_l of one iteration, from its files and step summaries."""
    initial = read_jsonl(iter_dir / "initial.jsonl")
    extended = read_jsonl(iter_dir / "extended.jsonl")
    kept = read_jsonl(iter_dir / "kept.jsonl")
    si = steps.get("self_instruct", {})
    return {
        "iteration": iteration,
        "models": models,
        "counts": {
            "proposals": si.get("proposals"), "instructions": si.get("instructions"),
            "first_responses": len(initial), "extended": len(extended),
            "grown": sum(1 for r in extended if r["extended_words"] > r["initial_words"]),
            "kept": len(kept), "generator_examples": steps.get("filter", {}).get("kept"),
            "extender_examples": steps.get("filter", {}).get("kept"),
        },
        "first_response_words": stats("words", [r["initial_words"] for r in initial]),
        "extended_words": stats("words", [r["extended_words"] for r in extended]),
        "kept_words": stats("words", [r["extended_words"] for r in kept]),
        # S_l of the generator's first responses against the instruction's target (stated, or the default),
        # and of the extensions against their extension target
        "length_score_first": mean_length_score(initial, "initial_words", "target_words"),
        "length_score_extended": mean_length_score(extended, "extended_words", "extension_target"),
        "filter": steps.get("filter", {}).get("dropped"),
        "train": {k: steps.get(f"train_{k}") for k in ("generator", "extender")},
        "steps": steps,
    }


def write_iteration_record(iter_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_text(iter_dir / "record.json", json.dumps(record, ensure_ascii=False, indent=2) + "\n")


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def summary_table(records: list[dict[str, Any]]) -> str:
    head = ("| iteration | generator | extender | instructions | first responses | first words mean / median "
            "| extended words mean / median | kept | kept words mean | S_l first | S_l extended | gen loss | ext loss |")
    lines = [head, "|" + "---|" * 13]
    for r in records:
        c, tr = r["counts"], r.get("train") or {}

        def loss(role: str, tr: dict = tr) -> str:
            t = tr.get(role) or {}
            return f"{_fmt(t.get('first_loss'))} -> {_fmt(t.get('last_loss'))}" if t else "-"

        lines.append("| " + " | ".join([
            str(r["iteration"]), f"`{r['models']['generator']}`", f"`{r['models']['extender']}`", _fmt(c["instructions"]),
            _fmt(c["first_responses"]),
            f"{_fmt(r['first_response_words']['words_mean'])} / {_fmt(r['first_response_words']['words_median'])}",
            f"{_fmt(r['extended_words']['words_mean'])} / {_fmt(r['extended_words']['words_median'])}",
            _fmt(c["kept"]), _fmt(r["kept_words"]["words_mean"]), _fmt(r["length_score_first"]),
            _fmt(r["length_score_extended"]), loss("generator"), loss("extender"),
        ]) + " |")
    return "\n".join(lines)


def write_summary(run_dir: Path, records: list[dict[str, Any]], config: dict[str, Any]) -> str:
    table = summary_table(records)
    atomic_write_text(run_dir / "summary.json", json.dumps({"iterations": records, "config": config},
                                                           ensure_ascii=False, indent=2) + "\n")
    md = (f"# Self-Lengthen run `{run_dir.name}`\n\n{table}\n\n"
          "first words: the generator's first responses (what Self-Lengthen trains to grow); extended: after the "
          "extender; kept: extensions that passed the filters (the training data). S_l first: against the "
          "instruction's length (or generate.target_words); S_l extended: against the extension target.\n")
    atomic_write_text(run_dir / "summary.md", md)
    return table
