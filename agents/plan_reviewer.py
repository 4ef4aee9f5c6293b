"""Plan reviewer agent: checks the unit plan against the requirements (by rule) and says what to repair.

Checked: one item per unit, numbered 1..N in order; every constraint assigned to exactly the units
it covers; budgets plus headings adding up to the target; every item carrying its constraints (the
keywords of a literal one, most of the words of another) and saying something. What the program
can fix (numbering, assignment, budgets) it fixes; items that do not carry their constraints are
re-planned by the unit planner (a bounded number of rounds, counted in the graph state), and after
the last round the program writes the constraint into the item itself.
"""

from __future__ import annotations

import re
from typing import Any

from longform.constraints.check import contains_keywords
from longform.constraints.spec import Constraint, Requirements
from longform.text import count_words

MIN_CARRY = 0.5  # share of a non-literal constraint's content words an item must mention


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w']+", text.lower()) if len(w) > 3]


def carries(item: dict[str, Any], c: Constraint) -> bool:
    """Whether a plan item says what the constraint asks (its keywords, else most of its words)."""
    text = f"{item.get('title', '')} {item.get('summary', '')}"
    if c.literal:
        return not contains_keywords(text, c.keywords)
    words = _content_words(c.text)
    if not words:
        return c.text in text
    low = text.lower()
    return sum(1 for w in words if w in low) / len(words) >= MIN_CARRY


def review(items: list[dict[str, Any]], req: Requirements, target_words: int) -> dict[str, Any]:
    """Problems of the plan: {"structural": [...], "repair": [unit numbers], "issues": [...]}.

    Structural problems are bugs of the program's own bookkeeping and reported as such; `repair`
    lists the units whose items the model should plan again."""
    structural: list[str] = []
    issues: list[dict[str, Any]] = []
    repair: list[int] = []
    numbers = [it["n"] for it in items]
    if numbers != list(range(1, len(items) + 1)):
        structural.append(f"items are numbered {numbers[:5]}..., not 1..{len(items)} in order")
    if req.units is not None and len(items) != req.units.count:
        structural.append(f"{len(items)} items for {req.units.count} units")
    total = sum(it["budget"] for it in items) + sum(count_words(it["heading"]) for it in items)
    if total != target_words and sum(it["budget"] for it in items) > len(items):
        structural.append(f"budgets and headings add up to {total}, not {target_words}")
    by_id = {c.id: c for c in req.constraints}
    for c in req.constraints:
        want = set(c.units(len(items))) if req.units is not None else ({it["n"] for it in items} if c.kind == "global" else set())
        have = {it["n"] for it in items if c.id in it["constraints"]}
        if want != have:
            structural.append(f"constraint {c.id} is assigned to units {sorted(have)[:6]}, not {sorted(want)[:6]}")
    for it in items:
        if not (it.get("summary") or "").strip():
            issues.append({"unit": it["n"], "problem": "empty item"})
            repair.append(it["n"])
            continue
        missing = [cid for cid in it["constraints"] if cid in by_id and by_id[cid].kind != "global"
                   and not carries(it, by_id[cid])]
        if missing:
            issues.append({"unit": it["n"], "problem": "does not carry " + ", ".join(missing)})
            repair.append(it["n"])
    return {"structural": structural, "repair": repair, "issues": issues}


def program_repair(item: dict[str, Any], req: Requirements) -> dict[str, Any]:
    """Write the unit's constraints into its item (after the model's repair rounds are spent)."""
    by_id = {c.id: c for c in req.constraints}
    extra = []
    for cid in item["constraints"]:
        c = by_id.get(cid)
        if c is None or c.kind == "global" or carries(item, c):
            continue
        line = c.text
        missing = contains_keywords(line, c.keywords)
        if missing:
            line += " (" + ", ".join(f'"{k}"' for k in missing) + ")"
        extra.append(line)
    summary = " ".join(x for x in [item.get("summary", "").strip(), "; ".join(extra)] if x).strip()
    return {**item, "summary": summary or item.get("label", ""), "repaired_by": "program" if extra else item.get("repaired_by")}
