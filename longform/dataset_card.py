"""The dataset's final files: split tables (sft, dpo, rm, raw) as Parquet, and the README card
(counts, drop table, length histograms, config, the exact load calls).

Formats are TRL's conversational ones:
- sft: {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}
- dpo: {"prompt": [user], "chosen": [assistant], "rejected": [assistant]} (explicit prompt)
- rm:  {"chosen": [user, assistant], "rejected": [user, assistant]} (implicit prompt)
- raw: every record, kept, dropped or failed, with its candidates, plans, usage and scores (JSON columns).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from longform.shard_store import atomic_write_bytes, atomic_write_text, replace_dir

SPLITS = ("sft", "dpo", "rm", "raw")
ROWS_PER_FILE = 5000


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    msg = pa.struct([("role", pa.string()), ("content", pa.string())])
    msgs = pa.list_(msg)
    return {
        "sft": pa.schema([("id", pa.string()), ("messages", msgs), ("method", pa.string()), ("lang", pa.string()),
                          ("target_words", pa.int64()), ("words", pa.int64()), ("length_score", pa.float64())]),
        "dpo": pa.schema([("id", pa.string()), ("prompt", msgs), ("chosen", msgs), ("rejected", msgs),
                          ("chosen_method", pa.string()), ("rejected_method", pa.string()),
                          ("chosen_length_score", pa.float64()), ("rejected_length_score", pa.float64()),
                          ("lang", pa.string()), ("chosen_reward", pa.float64()), ("rejected_reward", pa.float64())]),
        "rm": pa.schema([("id", pa.string()), ("chosen", msgs), ("rejected", msgs),
                         ("chosen_length_score", pa.float64()), ("rejected_length_score", pa.float64()),
                         ("chosen_reward", pa.float64()), ("rejected_reward", pa.float64())]),
        "raw": pa.schema([
            ("id", pa.string()), ("status", pa.string()), ("reason", pa.string()), ("instruction", pa.string()),
            ("lang", pa.string()), ("target_words", pa.int64()), ("constraint_kind", pa.string()),
            ("constraint_lo", pa.float64()), ("constraint_hi", pa.float64()), ("augmented_from", pa.string()),
            ("source", pa.string()), ("model", pa.string()), ("method", pa.string()), ("text", pa.string()),
            ("words", pa.int64()), ("length_score", pa.float64()), ("reasons", pa.list_(pa.string())),
            ("error", pa.string()), ("duplicate_of", pa.string()), ("pair", pa.string()),
            ("plan", pa.string()), ("usage", pa.string()), ("candidates", pa.string()), ("meta", pa.string()),
            ("generation", pa.string()), ("reward", pa.float64()), ("rewards", pa.string()),
        ]),
    }


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def build_tables(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows of every split from finalized records (in id order)."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for rec in records:
        cands = rec.get("candidates") or []
        chosen = cands[rec["chosen"]] if rec.get("chosen") is not None and cands else None
        rejected = cands[rec["rejected"]] if rec.get("rejected") is not None and cands else None
        c = rec.get("constraint") or {}
        pair = None
        if rec["status"] == "kept":
            pair = "pair" if rejected else (rec.get("pair_skipped") or "single_candidate")
        out["raw"].append({
            "id": rec["id"], "status": rec["status"], "reason": rec.get("reason") or "",
            "instruction": rec["instruction"], "lang": rec["lang"], "target_words": rec["target_words"],
            "constraint_kind": c.get("kind", "implicit"), "constraint_lo": c.get("lo"), "constraint_hi": c.get("hi"),
            "augmented_from": rec.get("augmented_from"), "source": rec.get("source"), "model": rec.get("model"),
            "method": chosen["method"] if chosen else None, "text": chosen["text"] if chosen else None,
            "words": chosen["words"] if chosen else None,
            "length_score": chosen["check"]["length_score"] if chosen else None,
            "reasons": list(chosen["check"]["reasons"]) if chosen else ([rec["reason"]] if rec.get("reason") else []),
            "error": rec.get("error"), "duplicate_of": rec.get("duplicate_of"), "pair": pair,
            "plan": _j(chosen.get("plan")) if chosen else None,
            "usage": _j(chosen.get("usage")) if chosen else None,
            "candidates": _j(cands), "meta": _j(rec.get("meta") or {}), "generation": _j(rec.get("generation")),
            "reward": _reward(chosen), "rewards": _j(chosen.get("reward")) if chosen else None,
        })
        if rec["status"] != "kept" or chosen is None:
            continue
        out["sft"].append({
            "id": rec["id"], "messages": [_user(rec["instruction"]), _assistant(chosen["text"])],
            "method": chosen["method"], "lang": rec["lang"], "target_words": rec["target_words"],
            "words": chosen["words"], "length_score": chosen["check"]["length_score"],
        })
        if rejected is None:
            continue
        out["dpo"].append({
            "id": rec["id"], "prompt": [_user(rec["instruction"])], "chosen": [_assistant(chosen["text"])],
            "rejected": [_assistant(rejected["text"])], "chosen_method": chosen["method"],
            "rejected_method": rejected["method"], "chosen_length_score": chosen["check"]["length_score"],
            "rejected_length_score": rejected["check"]["length_score"], "lang": rec["lang"],
            "chosen_reward": _reward(chosen), "rejected_reward": _reward(rejected),
        })
        out["rm"].append({
            "id": rec["id"],
            "chosen": [_user(rec["instruction"]), _assistant(chosen["text"])],
            "rejected": [_user(rec["instruction"]), _assistant(rejected["text"])],
            "chosen_length_score": chosen["check"]["length_score"],
            "rejected_length_score": rejected["check"]["length_score"],
            "chosen_reward": _reward(chosen), "rejected_reward": _reward(rejected),
        })
    return out


def _reward(cand: dict[str, Any] | None) -> float | None:
    return (cand.get("reward") or {}).get("combined") if cand else None


REWARD_KEYS = ("combined", "length", "format", "quality", "rm", "s_q")


def _summary(values: list[float]) -> dict[str, Any]:
    import statistics

    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": round(statistics.fmean(values), 4), "median": round(statistics.median(values), 4),
            "min": round(min(values), 4), "max": round(max(values), 4)}


def reward_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Distribution of every reward component over all candidates and over the kept records' chosen ones."""
    every = [c for r in records for c in r.get("candidates") or [] if c.get("reward")]
    chosen = [r["candidates"][r["chosen"]] for r in records
              if r["status"] == "kept" and r.get("chosen") is not None and r["candidates"][r["chosen"]].get("reward")]
    out: dict[str, Any] = {}
    for name, cands in (("all_candidates", every), ("chosen", chosen)):
        out[name] = {k: _summary([c["reward"][k] for c in cands if c["reward"].get(k) is not None]) for k in REWARD_KEYS}
    out["injection_flagged"] = sum(1 for c in every if c["reward"].get("injection"))
    out["judge_missing"] = sum(1 for c in every if c["reward"].get("judge_missing"))
    judged = [c["judge"] for r in records for c in r.get("candidates") or [] if c.get("judge")]
    out["judged_candidates"] = len(judged)
    out["judge_tokens"] = sum(sum((j.get("usage") or {}).values()) for j in judged)
    return out


def write_splits(out_dir: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Each split is a folder of Parquet files, swapped in whole (temp folder, fsync, rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = _schemas()
    out_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        rows = tables[split]
        n_files = max(1, -(-len(rows) // ROWS_PER_FILE))

        def build(tmp: Path, rows: list[dict[str, Any]] = rows, split: str = split, n_files: int = n_files) -> None:
            for i in range(n_files):
                chunk = rows[i * ROWS_PER_FILE : (i + 1) * ROWS_PER_FILE]
                table = pa.Table.from_pylist(chunk, schema=schemas[split])
                pq.write_table(table, tmp / f"train-{i:05d}-of-{n_files:05d}.parquet", compression="zstd")

        replace_dir(out_dir / split, build)


# --- statistics and card ------------------------------------------------------------------------


def stats(col: Any, tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    records = col.records
    status = Counter(r["status"] for r in records)
    drops = Counter(r["reason"] for r in records if r["status"] == "dropped")
    failures = Counter(r["reason"] for r in records if r["status"] == "failed")
    candidate_fails: Counter[str] = Counter()
    methods_chosen = Counter(row["method"] for row in tables["sft"])
    for r in records:
        for c in r.get("candidates") or []:
            for reason in (c.get("check") or {}).get("reasons", []):
                candidate_fails[f"{c['method']}:{reason}"] += 1
    pairs_skipped = Counter(row["pair"] for row in tables["raw"] if row["pair"] not in (None, "pair"))
    jobs = col.jobs
    invalid = sum(len(j.get("invalid_skipped") or []) for j in jobs[:1])
    completion_tokens = sum(
        (c.get("usage") or {}).get("completion_tokens", 0) for r in records for c in r.get("candidates") or [])
    return {
        "records": len(records), "pending": col.pending, "missing_shards": col.missing_shards,
        "kept": status.get("kept", 0), "dropped": status.get("dropped", 0), "failed": status.get("failed", 0),
        "drops": dict(sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "failures": dict(failures),
        "failed_records": [{"id": r["id"], "error": r.get("error")} for r in records if r["status"] == "failed"],
        "candidate_filter_fails": dict(sorted(candidate_fails.items())),
        "sft": len(tables["sft"]), "dpo": len(tables["dpo"]), "rm": len(tables["rm"]), "raw": len(tables["raw"]),
        "pairs_skipped": dict(pairs_skipped), "chosen_methods": dict(methods_chosen),
        "instructions_read": jobs[0].get("rows_read") if jobs else None,
        "instructions_used": jobs[0].get("instructions") if jobs else None,
        "invalid_rows_skipped": invalid,
        "duplicate_instructions": jobs[0].get("duplicate_instructions") if jobs else None,
        "augmented_records": jobs[0].get("augmented") if jobs else None,
        "planned_records": jobs[0].get("total_all_shards") if jobs else None,
        "shards": sorted(j["shard"][0] for j in jobs), "n_shards": jobs[0]["shard"][1] if jobs else 1,
        "completion_tokens": completion_tokens,
        "rewards": reward_stats(records),
    }


def _histograms(out_dir: Path, tables: dict[str, list[dict[str, Any]]], bins: int) -> list[str]:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[str] = []
    figs = []
    kept = [r["words"] for r in tables["sft"]]
    all_words = [r["words"] for r in tables["raw"] if r["words"] is not None]
    if all_words:
        import numpy as np

        edges = np.histogram_bin_edges(all_words + kept, bins=bins)  # one set of bins for both series
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(all_words, bins=edges, alpha=0.5, label=f"all records' best candidates (n={len(all_words)})")
        if kept:
            ax.hist(kept, bins=edges, alpha=0.7, label=f"kept, sft (n={len(kept)})")
        ax.set_xlabel("words (LongBench-Write count)")
        ax.set_ylabel("records")
        ax.legend(fontsize=8)
        ax.set_title("Output length")
        figs.append(("length_hist.png", fig))
    ratios = [r["words"] / r["target_words"] for r in tables["raw"] if r["words"] and r["target_words"]]
    if ratios:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(ratios, bins=bins)
        ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
        ax.set_xlabel("output words / target words")
        ax.set_ylabel("records")
        ax.set_title("Length vs target")
        figs.append(("length_ratio_hist.png", fig))
    every = [c["reward"]["combined"] for r in tables["raw"] for c in json.loads(r["candidates"] or "[]")
             if (c.get("reward") or {}).get("combined") is not None]
    if every:
        import numpy as np

        chosen = [r["reward"] for r in tables["raw"] if r["status"] == "kept" and r["reward"] is not None]
        edges = np.histogram_bin_edges(every + chosen, bins=bins, range=(0.0, 1.0))
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(every, bins=edges, alpha=0.5, label=f"all candidates (n={len(every)})")
        if chosen:
            ax.hist(chosen, bins=edges, alpha=0.7, label=f"chosen, kept (n={len(chosen)})")
        ax.set_xlabel("combined reward")
        ax.set_ylabel("candidates")
        ax.legend(fontsize=8)
        ax.set_title("Reward distribution")
        figs.append(("reward_hist.png", fig))
    if tables["dpo"]:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist([r["chosen_length_score"] for r in tables["dpo"]], bins=bins, alpha=0.6, label="chosen")
        ax.hist([r["rejected_length_score"] for r in tables["dpo"]], bins=bins, alpha=0.6, label="rejected")
        ax.set_xlabel("S_l")
        ax.legend(fontsize=8)
        ax.set_title("Preference pairs: length score")
        figs.append(("pair_score_hist.png", fig))
    for name, fig in figs:
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        atomic_write_bytes(out_dir / name, buf.getvalue())
        made.append(name)
    return made


def _table(header: tuple[str, str], rows: list[tuple[Any, Any]]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---:|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def _reward_table(rs: dict[str, Any]) -> str:
    lines = ["| component | candidates: n | mean | median | min | max | chosen: n | mean | median |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in REWARD_KEYS:
        a, c = rs["all_candidates"][k], rs["chosen"][k]
        if not a.get("n"):
            continue
        lines.append(f"| {k} | {a['n']} | {a['mean']} | {a['median']} | {a['min']} | {a['max']} | {c.get('n', 0)} | "
                     f"{c.get('mean', '')} | {c.get('median', '')} |")
    return "\n".join(lines) if len(lines) > 2 else "(no scored candidates yet)"


def write_card(out_dir: Path, cfg: Any, st: dict[str, Any], col: Any, tables: dict[str, list[dict[str, Any]]]) -> None:
    import yaml

    pngs = _histograms(out_dir, tables, cfg.output.histogram_bins)
    front = {
        "configs": [{"config_name": s, "data_files": [{"split": "train", "path": f"{s}/*.parquet"}],
                     **({"default": True} if s == "sft" else {})} for s in SPLITS],
        "tags": ["longform", "long-output", "sft", "dpo", "reward-model"],
        "language": sorted({r["lang"] for r in col.records}) or ["en"],
    }
    name = cfg.name
    path = str(out_dir)
    incomplete = ""
    if st["pending"] or st["missing_shards"]:
        incomplete = (f"\n> **Incomplete:** {st['pending']} planned record(s) not yet written"
                      f"{', missing shards ' + str(st['missing_shards']) if st['missing_shards'] else ''}; "
                      "run the job again (it resumes) and merge.\n")
    drop_rows = [(k, v) for k, v in st["drops"].items()] or [("(none)", 0)]
    fail_rows = [(k, v) for k, v in st["failures"].items()]
    body = f"""---
{yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip()}
---

# {name}

{cfg.description or 'Long-output instruction data written by longform pipelines.'}

Model: `{cfg.model.model}`; methods: {', '.join(cfg.generation.methods)} x {cfg.generation.samples} sample(s);
source: `{cfg.source.path}`. Built by `longform dataset build` (shards merged: {len(st['shards'])} of {st['n_shards']}).
{incomplete}
## Load it

```python
from datasets import load_dataset

sft = load_dataset("parquet", data_dir="{path}/sft", split="train")   # messages
dpo = load_dataset("parquet", data_dir="{path}/dpo", split="train")   # prompt / chosen / rejected
rm  = load_dataset("parquet", data_dir="{path}/rm",  split="train")   # chosen / rejected (implicit prompt)
raw = load_dataset("parquet", data_dir="{path}/raw", split="train")   # everything, with metadata
# or through this card's `configs` (force_redownload: `datasets` caches a local folder loaded
# this way by its name and would not see a rebuild):
dpo = load_dataset("{path}", "dpo", split="train", download_mode="force_redownload")
```

`sft` is TRL's conversational language-modeling format (SFTTrainer), `dpo` its conversational
preference format with an explicit prompt (DPOTrainer), `rm` the implicit-prompt preference format
(RewardTrainer). Extra columns (id, scores, methods) can be dropped with `remove_columns`.

## Counts

{_table(("split / count", "rows"), [
    ("instructions read", st['instructions_read']), ("instructions used", st['instructions_used']),
    ("invalid rows skipped", st['invalid_rows_skipped']), ("duplicate instructions", st['duplicate_instructions']),
    ("length-augmented records", st['augmented_records']), ("planned records", st['planned_records']),
    ("records written", st['records']), ("pending", st['pending']),
    ("kept", st['kept']), ("dropped", st['dropped']), ("failed (model errors)", st['failed']),
    ("sft rows", st['sft']), ("dpo pairs", st['dpo']), ("rm pairs", st['rm']), ("raw rows", st['raw']),
    ("completion tokens (all candidates)", st['completion_tokens']),
])}

Chosen method of kept records: {', '.join(f'{k}: {v}' for k, v in st['chosen_methods'].items()) or '(none)'}.
Kept records without a preference pair: {', '.join(f'{k}: {v}' for k, v in st['pairs_skipped'].items()) or 'none'}.

## Drops by reason

A record is dropped when its best candidate fails a filter (its first failing reason is counted),
or as a duplicate of an earlier record (in id order).

{_table(("reason", "records"), drop_rows)}

Failed records (model errors after retries): {len(fail_rows) and ', '.join(f'{k}: {v}' for k, v in fail_rows) or 'none'}.
{''.join(f'{chr(10)}- `{f["id"]}`: {f["error"]}' for f in st['failed_records'][:50])}

Every candidate's failed checks (method:reason):

{_table(("method:reason", "candidates"), list(st['candidate_filter_fails'].items()) or [("(none)", 0)])}

## Length histograms

{chr(10).join(f'![{p}]({p})' for p in pngs if p != 'reward_hist.png') or '(no outputs yet)'}

## Rewards

Candidates are ranked by the combined reward (weights {', '.join(f'{k} {v:g}' for k, v in cfg.rewards.weights.items())};
judge: `{cfg.rewards.judge or 'none'}`; reward model: `{cfg.rewards.rm or 'none'}`); components left out when
they do not exist for a candidate (no stated length, no judge, a missing verdict). Every component of
every candidate is in `raw` (`candidates[].reward`; the chosen one's also in the `rewards` column).

{_reward_table(st['rewards'])}

Candidates flagged for text addressed to the evaluator: {st['rewards']['injection_flagged']}; judged candidates:
{st['rewards']['judged_candidates']} ({st['rewards']['judge_missing']} without a valid verdict, {st['rewards']['judge_tokens']} judge tokens).

{'![reward_hist.png](reward_hist.png)' if 'reward_hist.png' in pngs else ''}

## Filters

S_l >= {cfg.filters.min_length_score} against the instruction's explicit length (its target when it states none);
repeated-4-gram share <= {cfg.filters.max_ngram_repetition}{' and no degenerate loop' if cfg.filters.loop_check else ''};
{'a clean sentence-final ending; ' if cfg.filters.require_clean_ending else ''}{'output language = instruction language; ' if cfg.filters.check_language else ''}at least {cfg.filters.min_words} words;
{'exact duplicates and ' if cfg.filters.exact_dedup else ''}{'MinHash near duplicates (Jaccard >= ' + str(cfg.filters.near_dup_threshold) + ')' if cfg.filters.near_dup_threshold else 'no near-duplicate check'}.
Preference pairs: chosen = the passing candidate with the highest combined reward, rejected = the worst
candidate, kept when the rejected fails a filter or trails by >= {cfg.rewards.min_pair_margin} in combined reward
(and by >= {cfg.filters.min_pair_margin} S_l points).

## Config

```yaml
{yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True).strip()}
```
"""
    atomic_write_text(out_dir / "README.md", body)
    atomic_write_text(out_dir / "stats.json", json.dumps(st, ensure_ascii=False, indent=2))
