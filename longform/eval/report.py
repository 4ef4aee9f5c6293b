"""The eval's report, written from the journal (so it can be rebuilt at any time, also mid-run):

    report.md      tables by method (and model), by length bucket, language and the benchmark's own
                   groups: mean, median, n; failures and why; token cost of generation and judging
    scatter.png    required vs produced length, log axes, one colour a series, the y = x line
    results.jsonl  every sample: text, required length, scores (length scores computed again from
                   the stored text), judge verdict, usage

All three are written atomically.
"""

from __future__ import annotations

import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.eval import journal, scoring
from longform.eval.samples import Sample
from longform.run_record import write_atomic

METRIC_NAMES = {"s_l": "S_l", "longen": "LonGen score", "s_q": "S_q", "s": "S = (S_l+S_q)/2",
                "completion": "units present", "in_order": "units in order", "satisfaction": "constraints satisfied"}


@dataclass
class Row:
    """One (model, method, sample) in the report."""

    model: str
    method: str
    series: str
    sample: Sample
    status: str  # done | failed | pending
    record: dict[str, Any] | None
    scores: dict[str, Any]
    judgement: dict[str, Any] | None


def _series(model: str, method: str, models: list[str]) -> str:
    return method if len(models) == 1 else f"{method} @ {model}"


def collect(manifest: dict[str, Any], samples: list[Sample], gens: journal.Journal, judgements: journal.Journal,
            mod: Any, judge: str | None) -> list[Row]:
    rows = []
    models, methods = manifest["models"], manifest["methods"]
    for model in models:
        for method in methods:
            for s in samples:
                rec = gens.get(journal.gen_key(model, method, s.id))
                status = rec["status"] if rec else "pending"
                scores: dict[str, Any] = {}
                jd = None
                if status == "done":
                    scores = scoring.sample_scores(mod, s, rec.get("text", ""), rec.get("method_report"))
                    if judge:
                        jd = judgements.get(journal.judge_key(model, method, s.id, judge))
                        if jd is not None:
                            scores["s_q"] = jd.get("s_q")
                            if jd.get("s_q") is not None:
                                scores["s"] = round((scores["s_l"] + jd["s_q"]) / 2, 4)
                rows.append(Row(model, method, _series(model, method, models), s, status, rec, scores, jd))
    return rows


def result_line(r: Row, judge: str | None) -> dict[str, Any]:
    s, rec = r.sample, r.record or {}
    usage = rec.get("usage") or {}
    gen_usage = {k: usage.get(k, 0) for k in ("calls", "cached_calls", "prompt_tokens", "completion_tokens")}
    judge_usage = (r.judgement or {}).get("usage") or {}
    return {
        "benchmark": s.benchmark, "sample_id": s.id, "model": r.model, "method": r.method, "status": r.status,
        "error": rec.get("error"), "prompt": s.prompt, "lang": s.lang, "bucket": s.bucket, "kind": s.kind,
        "required_words": s.required_words, "target_words": s.target_words,
        "interval": list(s.interval) if s.interval else None,
        "text": rec.get("text"), "words": r.scores.get("words"), "scores": r.scores,
        "judge": None if r.judgement is None else {"spec": judge, **{k: r.judgement.get(k) for k in
                                                                       ("s_q", "missing", "reason", "dimensions", "injection", "spans",
                                                                        "omitted_words", "error")}},
        "usage": {"generation": gen_usage, "judging": judge_usage},
        "elapsed_s": rec.get("elapsed_s"), "method_report": rec.get("method_report"), "run_dir": rec.get("run_dir"),
    }


# -- tables ------------------------------------------------------------------------------------------

def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.mean(values), statistics.median(values)


def _metric_digits(metric: str) -> int:
    return 3 if metric in ("longen", "completion", "in_order", "satisfaction") else 1


def metrics_for(rows: list[Row]) -> list[str]:
    present = {k for r in rows for k, v in r.scores.items() if v is not None}
    return [m for m in ("s_l", "longen", "s_q", "s", "completion", "in_order", "satisfaction") if m in present]


def _values(rows: list[Row], metric: str) -> list[float]:
    return [float(r.scores[metric]) for r in rows if r.status == "done" and r.scores.get(metric) is not None]


def summary_table(rows: list[Row], series: list[str], metrics: list[str]) -> list[str]:
    head = ["method", "samples", "done", "failed", "pending"]
    for m in metrics:
        head += [f"{METRIC_NAMES[m]} mean", "median"]
    head += ["in interval"] if "longen" in metrics else []
    head += ["4-gram rep.", "words / required", "s / sample", "prompt tok / word", "gen. tokens (prompt + compl.)",
             "judge tokens"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in series:
        rs = [r for r in rows if r.series == name]
        done = [r for r in rs if r.status == "done"]
        cells = [name, str(len(rs)), str(len(done)), str(sum(r.status == "failed" for r in rs)),
                 str(sum(r.status == "pending" for r in rs))]
        for m in metrics:
            mean, med = _stats(_values(rs, m))
            d = _metric_digits(m)
            cells += [_fmt(mean, d), _fmt(med, d)]
        if "longen" in metrics:
            inside = [r for r in done if "in_interval" in r.scores]
            cells.append(f"{sum(r.scores['in_interval'] for r in inside)}/{len(inside)}" if inside else "–")
        rep, _ = _stats([r.scores["rep4"] for r in done])
        ratio, _ = _stats([r.scores["words"] / r.sample.required_words for r in done])
        secs, _ = _stats([float(r.record.get("elapsed_s") or 0) for r in done if r.record])
        pt = sum(int((r.record.get("usage") or {}).get("prompt_tokens", 0)) for r in done if r.record)
        ct = sum(int((r.record.get("usage") or {}).get("completion_tokens", 0)) for r in done if r.record)
        words = sum(r.scores["words"] for r in done)
        jt = sum(int(((r.judgement or {}).get("usage") or {}).get("prompt_tokens", 0))
                 + int(((r.judgement or {}).get("usage") or {}).get("completion_tokens", 0)) for r in done)
        cells += [_fmt(rep, 2), _fmt(ratio, 2), _fmt(secs, 0), _fmt(pt / words if words else None, 2),
                  f"{pt:,} + {ct:,}", f"{jt:,}" if any(r.judgement for r in done) else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def group_table(rows: list[Row], series: list[str], attr: str, title: str, metric: str) -> list[str]:
    groups: dict[Any, list[Row]] = {}
    for r in rows:
        groups.setdefault(getattr(r.sample, attr), []).append(r)
    order = sorted(groups, key=lambda g: (min(r.sample.required_words for r in groups[g]) if attr == "bucket" else 0,
                                          str(g)))
    d = _metric_digits(metric)
    lines = [f"| {title} | " + " | ".join(series) + " |", "|" + "---|" * (len(series) + 1)]
    for g in order:
        cells = [str(g)]
        for name in series:
            rs = [r for r in groups[g] if r.series == name]
            vals = _values(rs, metric)
            failed = sum(r.status == "failed" for r in rs)
            mean, med = _stats(vals)
            cell = f"{_fmt(mean, d)} / {_fmt(med, d)} (n={len(vals)})" if vals else "– (n=0)"
            if failed:
                cell += f", {failed} failed"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


PER_SAMPLE_MAX = 80  # a longer selection is in results.jsonl only


def per_sample_table(rows: list[Row], series: list[str]) -> list[str]:
    """One row per sample: required length, then each method's words and its main score."""
    samples = list(dict.fromkeys(r.sample.id for r in rows))
    if len(samples) > PER_SAMPLE_MAX:
        return [f"{len(samples)} samples: see results.jsonl."]
    by = {(r.series, r.sample.id): r for r in rows}
    main = "longen" if any("longen" in r.scores for r in rows) else "s_l"
    label = METRIC_NAMES[main]
    lines = [f"Cells: words ({label}); failed and pending samples say so.", "",
             "| sample | required | " + " | ".join(series) + " |", "|" + "---|" * (len(series) + 2)]
    for sid in samples:
        first = next(r for r in rows if r.sample.id == sid)
        cells = [sid, f"{first.sample.required_words:,}"]
        for name in series:
            r = by.get((name, sid))
            if r is None or r.status == "pending":
                cells.append("pending")
            elif r.status == "failed":
                cells.append("failed")
            else:
                v = r.scores.get(main)
                cells.append(f"{r.scores['words']:,} ({_fmt(v, _metric_digits(main))})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def failure_lines(rows: list[Row]) -> list[str]:
    failed = [r for r in rows if r.status == "failed"]
    if not failed:
        return ["No sample failed."]
    why = Counter((r.series, (r.record or {}).get("error") or "?") for r in failed)
    lines = ["| method | failures | reason |", "|---|---|---|"]
    lines += [f"| {s} | {n} | {reason.replace('|', '/')} |" for (s, reason), n in why.most_common()]
    lines += ["", "Failed samples: " + ", ".join(f"{r.series} {r.sample.id}" for r in failed)]
    return lines


def markdown(manifest: dict[str, Any], rows: list[Row], groups: tuple[tuple[str, str], ...], judge: str | None,
             judge_note: str | None) -> str:
    series = list(dict.fromkeys(r.series for r in rows))
    metrics = metrics_for(rows)
    ident = manifest["identity"]
    lines = [
        f"# Evaluation: {ident['benchmark']}",
        "",
        (f"- selection: {journal.describe(ident)}; {len(manifest['sample_ids'])} prompts "
        f"(`{manifest.get('benchmark_file', '?')}`, sha256 {manifest.get('benchmark_digest', '?')})"),
        f"- models: {', '.join(manifest['models'])}; methods: {', '.join(manifest['methods'])}",
        f"- judge: {judge or 'none'}" + (f" ({judge_note})" if judge_note else ""),
        f"- sessions: {len(manifest.get('sessions', []))}; last updated {journal.now()}",
        "",
        ("Scores: S_l is LongBench-Write's length score (0-100) against the required length; the LonGen score "
        "is 1 inside the stated interval, falling linearly to 0 outside; S_q is the judge's quality score (0-100). "
        "Cells are mean / median (n). 4-gram rep. is the share of repeated word 4-grams (looping text)."),
        "",
        "## By method",
        "",
        *summary_table(rows, series, metrics),
        "",
    ]
    if judge is None:
        lines += [f"Note: {scoring.S_Q_SKIPPED}.", ""]
    else:
        judged = [r.judgement for r in rows if r.judgement]
        missing = sum(1 for j in judged if j.get("s_q") is None)
        cut = [j for j in judged if j.get("omitted_words")]
        flagged = sum(1 for j in judged if j.get("injection"))
        lines += [(f"Judge {judge}: {len(judged)} verdict(s), {missing} missing (no valid verdict: left out of S_q), "
                  f"{flagged} flagged for text addressed to the evaluator; {len(cut)} text(s) too long for the "
                  "judge's window were judged on their head and tail (middle cut)."), ""]
    for title, attr in groups:
        if len({getattr(r.sample, attr) for r in rows}) < 1:
            continue
        for m in metrics:
            if m == "s":
                continue
            lines += [f"## {METRIC_NAMES[m]} by {title}", "", *group_table(rows, series, attr, title, m), ""]
    lines += ["## Failures", "", *failure_lines(rows), "", "## Required vs produced length", "",
              "![required vs produced length](scatter.png)", "", "## Per sample", "",
              *per_sample_table(rows, series), ""]
    return "\n".join(lines)


def scatter_png(rows: list[Row], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.status == "done"]
    series = list(dict.fromkeys(r.series for r in rows))
    fig, ax = plt.subplots(figsize=(7.5, 6), dpi=120)
    xs_all = [r.sample.required_words for r in done] or [100, 10000]
    lo, hi = min(xs_all) / 1.6, max(xs_all) * 1.6
    ys_all = [max(1, r.scores["words"]) for r in done] or [lo, hi]
    lo, hi = min(lo, min(ys_all) / 1.3), max(hi, max(ys_all) * 1.3)
    ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", linewidth=1, label="y = x", zorder=1)
    colors = plt.get_cmap("tab10")
    n = max(1, len(series))
    for i, name in enumerate(series):
        rs = [r for r in done if r.series == name]
        if not rs:
            continue
        shift = 1.0 + 0.04 * (i - (n - 1) / 2)  # side by side at the same required length
        xs = [r.sample.required_words * shift for r in rs]
        ys = [max(1, r.scores["words"]) for r in rs]
        ax.scatter(xs, ys, s=28, alpha=0.8, color=colors(i % 10), label=f"{name} (n={len(rs)})", zorder=2,
                   edgecolors="white", linewidths=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    words_fmt = FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(words_fmt)
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("required length (words)")
    ax.set_ylabel("produced length (words)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(out: Path, manifest: dict[str, Any], samples: list[Sample], gens: journal.Journal,
                 judgements: journal.Journal, mod: Any, judge: str | None) -> list[Row]:
    """Write report.md, scatter.png and results.jsonl into `out`; returns the rows."""
    judge_note = None
    if judge is None and manifest.get("judges"):
        judge = manifest["judges"][-1]
        judge_note = "verdicts from an earlier run"
    rows = collect(manifest, samples, gens, judgements, mod, judge)
    write_atomic(out / "results.jsonl", "".join(json.dumps(result_line(r, judge), ensure_ascii=False) + "\n"
                                                for r in rows if r.status != "pending"))
    write_atomic(out / "report.md", markdown(manifest, rows, mod.GROUPS, judge, judge_note))
    ident = manifest["identity"]
    title = f"{ident['benchmark']}" + (f" ({ident['lang']})" if ident.get("lang") else "") + ": required vs produced"
    _write_bytes_atomic(out / "scatter.png", scatter_png(rows, title))
    return rows


def summary_line(rows: list[Row], out: Path) -> str:
    """The one line printed at the end: counts, each series' mean S_l (and LonGen / S_q), the report."""
    series = list(dict.fromkeys(r.series for r in rows))
    done = sum(r.status == "done" for r in rows)
    failed = sum(r.status == "failed" for r in rows)
    pending = sum(r.status == "pending" for r in rows)
    parts = []
    for name in series:
        rs = [r for r in rows if r.series == name]
        bits = []
        for m, d in (("s_l", 1), ("longen", 2), ("s_q", 1)):
            mean, _ = _stats(_values(rs, m))
            if mean is not None:
                bits.append(f"{METRIC_NAMES[m].split()[0]} {mean:.{d}f}")
        parts.append(f"{name} " + (" ".join(bits) if bits else "-"))
    counts = f"{done} done, {failed} failed" + (f", {pending} pending" if pending else "")
    return f"eval: {counts} · " + " · ".join(parts) + f" · {out / 'report.md'}"
