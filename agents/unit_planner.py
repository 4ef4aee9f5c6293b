"""Unit planner agent: the global plan (a short overview in prose) and one plan item per unit.

Prompts: `cogwriter_overview` (prose) and `cogwriter_unit_plan` (output schema
`cogwriter_unit_plan.schema.json`, one call per batch of units). The program owns everything that
can be counted: which constraints each unit carries (from the requirements, not from the model),
the unit labels ("Week 7"), and the word budgets, which add up to the target exactly with the
headings counted. A text without units is planned in sections by AgentWrite's planner.
"""

from __future__ import annotations

import math
from typing import Any

from longform.agents import planner

from longform.constraints.spec import Requirements, Units
from longform.llm import ChatModel, Completion, GenParams
from longform.prompting import load_schema, render_messages
from longform.text import count_words, split_sentences, trim_incomplete_tail, truncate_words

OVERVIEW_PROMPT = "cogwriter_overview"
PLAN_PROMPT = "cogwriter_unit_plan"
SCHEMA = "cogwriter_unit_plan"
OVERVIEW_WORDS = 90
TITLE_CHARS = 48
SUMMARY_CHARS = 160


def unit_label(req: Requirements, n: int) -> str:
    return req.units.label(n) if req.units else str(n)


def requirement_texts(req: Requirements, n: int) -> list[str]:
    """What unit n must do, one line a constraint (globals are in every prompt's fixed prefix)."""
    return [c.text for c in req.for_unit(n) if c.kind != "global"]


def unit_keywords(req: Requirements, n: int) -> list[str]:
    return list(dict.fromkeys(k for c in req.for_unit(n) if c.kind != "global" for k in c.keywords))


def budgets(headings: list[str], target_words: int, weights: list[float] | None = None) -> list[int]:
    """Words of prose per unit: the target less the headings' words, shared by `weights` (even by
    default), so that prose plus headings add up to the target exactly."""
    prose = max(len(headings), target_words - sum(count_words(h) for h in headings))
    return planner.rescale(weights or [1.0] * len(headings), prose)


def overview_messages(instruction: str, lang: str, n_units: int, unit_name: str, target_words: int) -> list[dict[str, str]]:
    return render_messages(OVERVIEW_PROMPT, lang, instruction=instruction, n_units=n_units, unit_name=unit_name,
                           target_words=target_words, max_words=OVERVIEW_WORDS)


async def overview(model: ChatModel, instruction: str, *, lang: str, n_units: int, unit_name: str, target_words: int,
                   seed: int | None, tokens_per_word: float = 1.4) -> tuple[str, Completion]:
    """The global plan as a short paragraph (cut to OVERVIEW_WORDS at a sentence end)."""
    params = GenParams(max_tokens=math.ceil(OVERVIEW_WORDS * tokens_per_word * 1.3) + 16, temperature=0.5, top_p=0.95,
                       seed=seed, repeat_penalty=1.1)
    c = await model.complete(overview_messages(instruction, lang, n_units, unit_name, target_words), params, tag="overview")
    text = " ".join(c.text.split())
    text = trim_incomplete_tail(truncate_words(text, OVERVIEW_WORDS)) if text else ""
    return text.strip(), c


def batches(n_units: int, size: int) -> list[list[int]]:
    """Unit numbers (1-based) in planning batches of at most `size`."""
    return [list(range(a, min(n_units, a + size - 1) + 1)) for a in range(1, n_units + 1, size)]


def plan_schema(n_items: int, exact: bool) -> dict[str, Any]:
    schema = load_schema(SCHEMA)
    schema["properties"]["items"]["maxItems"] = n_items
    if exact:
        schema["properties"]["items"]["minItems"] = n_items
    return schema


def batch_messages(instruction: str, overview_text: str, req: Requirements, units: list[int], lang: str) -> list[dict[str, str]]:
    rows = [{"label": unit_label(req, n), "requirements": requirement_texts(req, n)} for n in units]
    return render_messages(PLAN_PROMPT, lang, instruction=instruction, overview=overview_text, units=rows,
                           n_units=req.count or len(units))


def fallback_item(req: Requirements, n: int) -> dict[str, str]:
    reqs = requirement_texts(req, n)
    return {"title": "", "summary": "; ".join(reqs) if reqs else ""}


def _clean(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit].strip()


def clean_summary(value: Any, limit: int = SUMMARY_CHARS, max_sentences: int = 2) -> str:
    """A plan item's summary without the repeats a small model loops into: its first distinct
    sentences, at most `max_sentences`, cut to `limit` characters at a sentence end when one fits."""
    text = _clean(value, 4 * limit)
    out: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        k = " ".join(sentence.lower().split())
        if k in seen:
            continue
        seen.add(k)
        if out and len(" ".join(out + [sentence])) > limit:
            break
        out.append(sentence)
        if len(out) == max_sentences:
            break
    return " ".join(out)[:limit].strip()


async def plan_batch(model: ChatModel, instruction: str, overview_text: str, req: Requirements, units: list[int], *,
                     lang: str, seed: int | None, tag: str) -> tuple[list[dict[str, str]], Completion]:
    """Title and summary for each unit of the batch; a missing or empty item gets the fallback."""
    exact = bool(getattr(model.backend, "supports_json_schema", False))
    params = GenParams(max_tokens=min(48 + 70 * len(units), max(256, (model.n_ctx * 3) // 4)), temperature=0.5,
                       top_p=0.95, seed=seed, json_schema=plan_schema(len(units), exact))
    c = await model.complete(batch_messages(instruction, overview_text, req, units, lang), params,
                             fallback=lambda: {"items": []}, tag=tag)
    raw = (c.parsed or {}).get("items", []) if isinstance(c.parsed, dict) else []
    items = []
    for k, n in enumerate(units):
        r = raw[k] if k < len(raw) and isinstance(raw[k], dict) else {}
        title, summary = _clean(r.get("title"), TITLE_CHARS), clean_summary(r.get("summary"))
        fb = fallback_item(req, n)
        items.append({"title": title or fb["title"], "summary": summary or fb["summary"],
                      "from_model": bool(title or summary)})
    return items, c


def unit_items(req: Requirements, target_words: int, planned: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    """The plan of a unit text: one item per unit, in order, with its label, heading, constraints
    (ids, assigned by the program) and budget (prose words; budgets + headings = target)."""
    n_units = req.count or 0
    labels = [unit_label(req, n) for n in range(1, n_units + 1)]
    words = budgets(labels, target_words)
    items = []
    for n, (label, w) in enumerate(zip(labels, words), start=1):
        p = planned.get(n, fallback_item(req, n))
        items.append({"n": n, "label": label, "heading": label, "title": p.get("title", ""),
                      "summary": p.get("summary", ""), "constraints": [c.id for c in req.for_unit(n)],
                      "budget": w, "from_model": bool(p.get("from_model"))})
    return items


SECTION_NAME = {"en": "Part", "zh": "第{n}部分"}


def section_plan_requirements(req: Requirements, n_sections: int, lang: str) -> Requirements:
    """What a text without units is planned as: `n_sections` numbered parts ("Part 3"), with the
    text's global constraints; the parts' headings are then the titles the planner gives them."""
    name = SECTION_NAME.get(lang, "Part")
    units = Units(name=name, count=n_sections, heading=name if "{n}" in name else f"{name} {{n}}")
    return Requirements(units, tuple(c for c in req.constraints if c.kind == "global"))


def section_items(req: Requirements, planning: Requirements, target_words: int,
                  planned: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Plan items for a text without units: each part under the title its plan item gives it (or
    "Part k" when the title is empty or repeats an earlier one); budgets add up with the headings."""
    n_units = planning.count or 0
    seen: set[str] = set()
    headings = []
    for n in range(1, n_units + 1):
        title = (planned.get(n) or {}).get("title", "").strip().strip("#*").strip()
        if not title or title.lower() in seen:
            title = planning.units.label(n)  # type: ignore[union-attr]
        seen.add(title.lower())
        headings.append(title)
    words = budgets(headings, target_words)
    globals_ = [c.id for c in req.constraints if c.kind == "global"]
    items = []
    for n, (heading, w) in enumerate(zip(headings, words), start=1):
        p = planned.get(n, {})
        items.append({"n": n, "label": planning.units.label(n), "heading": heading,  # type: ignore[union-attr]
                      "title": heading if heading != planning.units.label(n) else "",  # type: ignore[union-attr]
                      "summary": p.get("summary", ""), "constraints": list(globals_), "budget": w,
                      "from_model": bool(p.get("from_model"))})
    return items
