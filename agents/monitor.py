"""Monitor agent: keeps each unit's length within ±10% of its budget. No model call: it decides.

After each call on a unit it decides, by the section writer's rules (one implementation for
AgentWrite and CogWriter), whether the unit goes on (a continuation: it is short), is regenerated
(the chunk looped or added next to nothing) or is settled, and cuts a settled unit that runs over
1.1x its budget back to the budget at a paragraph or sentence end. Every decision is bounded by a
counter in the unit's state (continuations, regenerations).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from longform.agents import section_writer
from longform.agents.section_writer import SectionSettings

from longform.text import count_words, split_sentences, trim_incomplete_tail, truncate_words

WORDS_PER_CALL = 500  # what one call can add at most, for the continuation bound of a long unit


def continuation_limit(budget: int, settings: SectionSettings) -> int:
    """Continuations a unit may have: the section writer's bound, more for a unit that needs
    several calls' worth of words."""
    return max(settings.max_continuations, math.ceil(budget / WORDS_PER_CALL) + 1)


def new_unit(n: int, budget: int, tokens_per_word: float) -> dict[str, Any]:
    return {"n": n, "status": "write", "budget": budget, "draft": "", "text": "", "words": 0, "calls": 0,
            "continuations": 0, "regenerations": 0, "events": [], "tpw": tokens_per_word, "truncated": False,
            "revisions": 0, "revised_for": {}}


def words_needed(unit: dict[str, Any]) -> int:
    return max(1, unit["budget"] - count_words(unit.get("draft", "")))


def after_chunk(unit: dict[str, Any], chunk: str, settings: SectionSettings) -> dict[str, Any]:
    """The unit after one writing call returned `chunk` (already cleaned of headings)."""
    limited = dataclasses.replace(settings, max_continuations=continuation_limit(unit["budget"], settings))
    d = section_writer.decide_after_chunk(
        draft=unit.get("draft", ""), chunk=chunk, budget=unit["budget"], continuations=unit["continuations"],
        regenerations=unit["regenerations"], is_last=False, settings=limited,
    )
    out = {**unit, "draft": d["draft"], "continuations": d["continuations"], "regenerations": d["regenerations"],
           "events": list(unit.get("events", [])) + [d["event"]], "words": count_words(d["draft"])}
    return settle(out, settings) if d["next"] == "finish" else out


def fit_length(text: str, budget: int, tolerance: float = 0.10) -> tuple[str, bool]:
    """(text, cut?): a text over (1 + tolerance) x budget is cut at the sentence end closest to the
    budget inside ±tolerance (the nearest one below when none is inside); an unfinished last
    sentence is dropped."""
    text = trim_incomplete_tail(text.strip()).strip()
    total = count_words(text)
    if total <= budget * (1 + tolerance):
        return text, False
    ends, pos, words = [], 0, 0
    for sentence in split_sentences(text):
        at = text.find(sentence, pos)
        if at < 0:
            break
        pos = at + len(sentence)
        words += count_words(sentence)
        ends.append((pos, words))
    inside = [(abs(w - budget), -w, p) for p, w in ends if budget * (1 - tolerance) <= w <= budget * (1 + tolerance)]
    if inside:
        return text[: min(inside)[2]].rstrip(), True
    # No sentence ends inside the tolerance (long sentences, small budgets): the end that costs the
    # least by the length score's own asymmetry (short is penalised 1/2, long 1/3), up to 2x.
    costs = [((budget / w - 1) / 2 if w < budget else (w / budget - 1) / 3, p) for p, w in ends if 0 < w <= 2 * budget]
    if costs:
        return text[: min(costs)[1]].rstrip(), True
    return trim_incomplete_tail(truncate_words(text, budget)).strip(), True


def settle(unit: dict[str, Any], settings: SectionSettings) -> dict[str, Any]:
    """Cut to the budget if over 1.1x, drop an unfinished last sentence, and mark the unit written."""
    text, truncated = fit_length(unit.get("draft", ""), unit["budget"], settings.long_tolerance)
    return {**unit, "status": "written", "text": text, "words": count_words(text),
            "truncated": bool(unit.get("truncated")) or truncated}


BALANCE_AT = 0.05  # a first pass this much under the target gets the balance round
BALANCE_MAX_SHARE = 0.5  # a unit's budget grows by at most half in the balance round


def balance(units: dict[str, dict[str, Any]], items: list[dict[str, Any]], target_words: int,
            settings: SectionSettings) -> dict[str, dict[str, Any]]:
    """The units to write on (key -> unit with a larger budget, back to "write") when the first
    pass came out more than BALANCE_AT short of the target: the words missing go to the units that
    did not stall, in proportion to their budgets (at most +50% each). Empty when nothing to do."""
    headings = sum(count_words(it["heading"]) for it in items)
    total = sum(u["words"] for u in units.values()) + headings
    missing = target_words - total
    if missing <= BALANCE_AT * target_words:
        return {}
    able = [(k, u) for k, u in units.items() if u["events"] and u["events"][-1] not in ("stalled", "loop_cut")]
    out = {}
    # The shortest units first, each at least a call's worth of words (or many small units would each
    # get too few words to be worth a call), at most +50%.
    for k, u in sorted(able, key=lambda ku: (ku[1]["words"] / max(1, ku[1]["budget"]), int(ku[0]))):
        extra = min(missing, max(settings.min_progress_words, round(BALANCE_MAX_SHARE * u["budget"])))
        if extra < settings.min_progress_words:
            break
        out[k] = {**u, "status": "write", "draft": u["text"], "budget": u["words"] + extra,
                  "planned_budget": u.get("planned_budget", u["budget"]), "continuations": 0, "regenerations": 0,
                  "events": list(u["events"]) + ["balance"]}
        missing -= extra
    return out


def within(unit: dict[str, Any], tolerance: float = 0.10) -> bool:
    """Whether a written unit's length is within ±tolerance of its budget."""
    b = max(1, unit["budget"])
    return abs(unit["words"] - b) <= tolerance * b
