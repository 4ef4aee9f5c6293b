"""Reviewer agent: checks each unit against its constraints and says which units to revise.

Literal constraints (with keywords) are checked by rule: every keyword appears in the unit. The
others are checked by the model, one call per unit (prompt `cogwriter_check`, output schema
`cogwriter_check.schema.json`); the unit is shown as delimited data and any instruction inside it
is to be ignored. A model that gives no valid verdict leaves the constraint unchecked (reported as
such), never "satisfied". A global literal constraint must appear somewhere in the text.

The per-constraint report says, for each constraint, whether it holds, how it was checked, which
units fail, and after how many revision rounds.
"""

from __future__ import annotations

from typing import Any

from longform.constraints.check import contains_keywords
from longform.constraints.spec import Constraint, Requirements
from longform.llm import ChatModel, Completion, GenParams
from longform.prompting import load_schema, render_messages

PROMPT = "cogwriter_check"
SCHEMA = "cogwriter_check"
CHECK_TEXT_WORDS = 600


def model_checked(req: Requirements, n: int) -> list[Constraint]:
    """Constraints on unit n that need the model's verdict (no keywords)."""
    return [c for c in req.for_unit(n) if not c.literal]


def rule_checks(req: Requirements, n: int, text: str) -> dict[str, dict[str, Any]]:
    """{constraint id: {"ok", "by": "rule", "missing"}} for unit n's literal, non-global constraints."""
    out = {}
    for c in req.for_unit(n):
        if c.literal and c.kind != "global":
            missing = contains_keywords(text, c.keywords)
            out[c.id] = {"ok": not missing, "by": "rule", "missing": missing}
    return out


def global_checks(req: Requirements, texts: dict[int, str]) -> dict[str, dict[str, Any]]:
    """{id: {"ok", "by", "missing"}} for literal global constraints, over the whole text."""
    whole = "\n\n".join(texts[k] for k in sorted(texts))
    out = {}
    for c in req.constraints:
        if c.kind == "global" and c.literal:
            missing = contains_keywords(whole, c.keywords)
            out[c.id] = {"ok": not missing, "by": "rule", "missing": missing}
    return out


def check_messages(req: Requirements, n: int, label: str, text: str, lang: str) -> list[dict[str, str]]:
    from longform.text import truncate_words

    rows = [{"id": c.id, "text": c.text} for c in model_checked(req, n)]
    return render_messages(PROMPT, lang, text=truncate_words(text, CHECK_TEXT_WORDS), label=label, requirements=rows)


async def model_check(model: ChatModel, req: Requirements, n: int, label: str, text: str, *, lang: str,
                      seed: int | None, tag: str) -> tuple[dict[str, dict[str, Any]], Completion]:
    """{constraint id: {"ok": bool | None, "by": "model"}} for unit n's model-checked constraints."""
    wanted = model_checked(req, n)
    schema = load_schema(SCHEMA)
    schema["properties"]["verdicts"]["maxItems"] = max(1, len(wanted))
    params = GenParams(max_tokens=40 + 24 * len(wanted), temperature=0.0, top_p=1.0, seed=seed, json_schema=schema)
    c = await model.complete(check_messages(req, n, label, text, lang), params, fallback=lambda: {"verdicts": []}, tag=tag)
    verdicts = {v["id"]: bool(v["satisfied"]) for v in (c.parsed or {}).get("verdicts", []) if isinstance(v, dict)}
    return {x.id: {"ok": verdicts.get(x.id), "by": "model", "missing": []} for x in wanted}, c


def failing(checks: dict[str, dict[str, Any]]) -> list[str]:
    """Constraint ids whose check says no (an unchecked one is not failing: it is unknown)."""
    return [cid for cid, r in checks.items() if r.get("ok") is False]


def report(req: Requirements, units: dict[int, dict[str, Any]], global_results: dict[str, dict[str, Any]],
           rounds: int) -> list[dict[str, Any]]:
    """One entry per constraint: satisfied (True/False/None = not checked), how it was checked,
    the units that fail it, and the revision rounds spent on it."""
    out = []
    n_units = req.count or len(units)
    for c in req.constraints:
        if c.kind == "global" and c.literal:
            r = global_results.get(c.id, {"ok": None})
            covered, results = [], {0: r}
        else:
            covered = c.units(n_units) if req.units is not None else sorted(units)
            results = {k: units[k].get("checks", {}).get(c.id, {"ok": None}) for k in covered if k in units}
        oks = [r.get("ok") for r in results.values()]
        satisfied = False if False in oks else (None if (None in oks or not oks) else True)
        revisions = max((units[k].get("revised_for", {}).get(c.id, 0) for k in covered if k in units), default=0)
        if c.kind == "global" and c.literal:
            revisions = max((u.get("revised_for", {}).get(c.id, 0) for u in units.values()), default=0)
        out.append({
            **c.to_dict(), "where": c.where(req.units.name if req.units else "part"), "units": covered,
            "checked_by": "rule" if c.literal else "model", "satisfied": satisfied,
            "failed_units": sorted(k for k, r in results.items() if r.get("ok") is False and k),
            "unchecked_units": sorted(k for k, r in results.items() if r.get("ok") is None and k),
            "revisions": revisions, "revision_rounds_run": rounds,
        })
    return out
