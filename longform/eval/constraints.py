"""Unit prompts (the CogWriter kind): a text made of N numbered units (weeks of a diary, floors of a
building, chapters) with constraints on single units, ranges and every p-th unit. The prompts and
their requirements are bench/unit_prompts.jsonl (id, lang, prompt, target_words, requirements).

Scored by rule (longform.constraints.check_text) on every method's text alike: units present
(headings found / N), units in order, and the share of literal constraints satisfied. Every method
sees the prompt only; `--given-requirements` hands cogwriter the file's requirements as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from longform.eval.samples import REPO_ROOT, Sample, length_bucket, read_jsonl, resolve_data

NAME = "constraints"
FILE = "unit_prompts.jsonl"
GROUPS = (("length", "bucket"), ("language", "lang"), ("unit", "kind"))
SCORES = ("completion", "in_order", "satisfaction")


def data_path(override: str | Path | None) -> Path:
    if override:
        return resolve_data(FILE, override)
    return resolve_data(FILE, REPO_ROOT / "bench" / FILE)


def load(path: Path) -> list[Sample]:
    out = []
    for i, row in enumerate(read_jsonl(path)):
        req = row["requirements"]
        n = int(row["target_words"])
        out.append(Sample(id=f"units-{row.get('id', i)}", benchmark=NAME, index=i, prompt=str(row["prompt"]),
                          lang=str(row.get("lang", "en")), required_words=n, target_words=n, bucket=length_bucket(n),
                          kind=str(req["units"]["name"]), extra={"requirements": req}))
    return out


def strata(s: Sample) -> tuple:
    return (s.lang, s.kind or "")


def score(sample: Sample, text: str, report: dict[str, Any] | None = None) -> dict[str, Any]:
    from longform.constraints import check_text, from_dict

    check = check_text(text, from_dict(sample.extra["requirements"], source=sample.id))
    return {
        "completion": round(check.found / check.units, 4),
        "in_order": round(check.in_order / check.units, 4),
        "exact_order": check.exact_order,
        "satisfaction": None if check.share is None else round(check.share, 4),
        "constraints_satisfied": check.satisfied, "constraints_checked": check.literal_total,
    }
