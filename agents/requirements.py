"""Requirements agent: the units and constraints a writing instruction asks for.

Prompt: `cogwriter_requirements`; output schema: `cogwriter_requirements.schema.json`.

Three sources, checked by the program:
- given JSON (`writer --requirements FILE`): used as it is, after `spec.validate`;
- what the instruction states literally (`longform.constraints.literal`): validated too, so a
  contradiction the user wrote ("week 30" of a 20-week diary, "every 0th week", 500 units in 300
  words) is a UserError before any model call;
- the model's extraction (structured output): each item is kept only if it is grounded (its unit
  numbers are numbers the instruction writes, its keywords are words of the instruction) and sound
  (inside 1..N, period >= 1); what is dropped is recorded with the reason. A model that never gives
  valid JSON leaves the literal findings alone (recorded as a fallback), never an empty string or
  a loop.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from longform.constraints import literal
from longform.constraints.spec import (
    MIN_UNIT_WORDS,
    Constraint,
    Requirements,
    Units,
    constraint_from_dict,
    default_heading,
    from_dict,
    problem,
    validate,
)
from longform.errors import UserError
from longform.llm import ChatModel, Completion, GenParams
from longform.prompting import load_schema, render_messages

PROMPT = "cogwriter_requirements"
SCHEMA = "cogwriter_requirements"
MAX_TOKENS = 360
MIN_TEXT_OVERLAP = 0.5  # share of a model constraint's content words that must be in the instruction


def from_given(value: dict[str, Any], target_words: int) -> Requirements:
    """Requirements given as JSON, checked (UserError on any problem)."""
    return validate(from_dict(value, source="file"), target_words)


def literal_requirements(instruction: str, target_words: int) -> literal.LiteralFinding:
    """What the instruction states in so many words, checked (UserError on a contradiction)."""
    found = literal.find(instruction)
    validate(found.requirements, target_words)
    return found


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w']+", text.lower()) if len(w) > 3 and not w.isdigit()] or list(text.replace(" ", ""))


def _grounded_text(text: str, instruction: str) -> bool:
    words = _content_words(text)
    if not words:
        return False
    low = instruction.lower()
    return sum(1 for w in words if w in low) / len(words) >= MIN_TEXT_OVERLAP


def _numbers(c: Constraint) -> list[int]:
    return [v for v in (c.unit, c.start, c.end, c.every) if v is not None]


def _same(a: Constraint, b: Constraint, n: int) -> bool:
    return a.kind == b.kind and a.units(n) == b.units(n)


def merge_model(found: literal.LiteralFinding, value: Any, instruction: str,
                target_words: int) -> tuple[Requirements, dict[str, Any]]:
    """The literal findings completed by the model's extraction, keeping only grounded, sound items."""
    base = found.requirements
    nums = literal.numbers_in(instruction)
    dropped: list[dict[str, Any]] = []
    units = base.units
    if not isinstance(value, dict):
        return base, {"kept": 0, "dropped": dropped}
    count = value.get("unit_count") or 0
    name = " ".join(str(value.get("unit_name") or "").split())[:40]
    if units is None and count:
        if not name:
            dropped.append({"item": {"unit_count": count}, "why": "no unit name"})
        elif count not in nums:
            dropped.append({"item": {"unit_name": name, "unit_count": count}, "why": f"{count} is not a number the instruction states"})
        elif count * MIN_UNIT_WORDS > target_words:
            dropped.append({"item": {"unit_name": name, "unit_count": count}, "why": "too many units for the length"})
        else:
            units = Units(name=name, count=int(count), heading=default_heading(name.capitalize() if name.isascii() else name))
    constraints = list(base.constraints)
    kept = 0
    for i, item in enumerate(value.get("constraints") or []):
        try:
            c = constraint_from_dict(item, i, source="model")
        except UserError as exc:
            dropped.append({"item": item, "why": str(exc)})
            continue
        ungrounded = [v for v in _numbers(c) if v not in nums]
        if ungrounded:
            dropped.append({"item": item, "why": f"{ungrounded[0]} is not a number the instruction states"})
            continue
        keywords = tuple(k for k in c.keywords if k.lower() in instruction.lower())
        c = replace(c, keywords=keywords)
        if not keywords and not _grounded_text(c.text, instruction):
            dropped.append({"item": item, "why": "neither its keywords nor its text are in the instruction"})
            continue
        if c.kind == "global" and not keywords:
            dropped.append({"item": item, "why": "a global requirement without quoted words adds nothing to the instruction"})
            continue
        why = problem(Requirements(units, (c,)), None)
        if why is not None:
            dropped.append({"item": item, "why": why})
            continue
        n = units.count if units else 0
        twin = next((k for k, b in enumerate(constraints) if _same(b, c, n)), None)
        if twin is not None:
            b = constraints[twin]
            constraints[twin] = replace(b, keywords=tuple(dict.fromkeys(b.keywords + keywords)),
                                        source="rule+model" if b.source == "rule" else b.source)
            continue
        constraints.append(c)
        kept += 1
    if units is None:  # a text without units takes only global constraints
        for c in [c for c in constraints if c.kind != "global"]:
            dropped.append({"item": c.to_dict(), "why": "the text has no units"})
        constraints = [c for c in constraints if c.kind == "global"]
    constraints = [replace(c, id=f"c{k + 1}") for k, c in enumerate(constraints)]
    return Requirements(units, tuple(constraints)), {"kept": kept, "dropped": dropped}


def messages(instruction: str, lang: str) -> list[dict[str, str]]:
    return render_messages(PROMPT, lang, instruction=instruction)


async def extract(
    model: ChatModel, instruction: str, target_words: int, *, lang: str = "en", seed: int | None = 0,
    use_model: bool = True,
) -> tuple[Requirements, dict[str, Any], Completion | None]:
    """(requirements, how they were found, the model call or None). UserError on a literal contradiction."""
    found = literal_requirements(instruction, target_words)
    meta: dict[str, Any] = {"source": "instruction", "literal": found.requirements.to_dict(),
                            "ignored_clauses": list(found.ignored)}
    if not use_model:
        return found.requirements, {**meta, "model": None}, None
    if not literal.numbers_in(instruction):
        # Every unit count and unit number the model gives must be one the instruction states: with
        # none stated, nothing it says could be kept, so it is not asked.
        return found.requirements, {**meta, "model": "not asked: the instruction states no unit numbers"}, None
    params = GenParams(max_tokens=MAX_TOKENS, temperature=0.2, top_p=0.95, seed=seed, json_schema=load_schema(SCHEMA))
    c = await model.complete(messages(instruction, lang), params, fallback=lambda: None, tag="requirements")
    req, merged = merge_model(found, c.parsed, instruction, target_words)
    meta["model"] = {"fallback": bool(c.fallback), "repairs": c.meta.get("repairs", 0), "raw": c.parsed, **merged}
    return validate(req, target_words), meta, c
