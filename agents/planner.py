"""Planner agent: splits the instruction into sections (title and main point; the program sets the budgets).

Prompt: `planner` (prompts/planner[.zh].{system,user}.md). Output schema: `planner.schema.json`.
The model proposes the outline; the program owns the numbers: it pads or splits the outline to the
section count the target needs and rescales the budgets so they add up to the target exactly
(largest-remainder rounding). A model whose JSON never validates gets a deterministic fallback
outline, recorded as such in the plan's meta.

A small model asked for 25 sections gives a handful of titles, often the same ones again ("A Family",
"The Family"). So the plan grows by asking again: `extend_plan` (prompt `planner_more`) shows the
distinct sections so far and asks for more, with the earlier titles' token n-grams blocked (backends
that support it), until the plan has as many distinct parts as the length needs or a bounded number
of rounds is spent. Only what is still missing after that is split into continued parts.
"""

from __future__ import annotations

import math
import re
from typing import Any

from longform.llm import ChatModel, GenParams
from longform.prompting import load_schema, render_messages
from longform.text import count_words, ngram_repetition

PROMPT = "planner"
MORE_PROMPT = "planner_more"
SCHEMA = "planner"
MORE_PER_ROUND = 8  # sections asked for in one `planner_more` call
FIRST_ROUND_SECTIONS = 12  # at most this many in the first call: a small model asked for 25 at once repeats
# one title ~20 times (1,200 decoded tokens for 5 distinct parts, measured); `planner_more` adds the rest
TITLE_BLOCK_NGRAM = 3  # token n-grams a plan may not repeat: within its JSON's text, and from earlier rounds

TITLE_MAX_CHARS = 80
POINT_MAX_CHARS = 120  # one short sentence: every character of every point is decoded under a grammar, and read by every planning call after it


def section_count(target_words: int, section_words: int, max_sections: int = 200) -> int:
    """How many sections a target needs when one section should be about `section_words` long."""
    return max(1, min(max_sections, round(target_words / max(1, section_words))))


def rescale(weights: list[float], total: int) -> list[int]:
    """Integers proportional to `weights` that sum to `total` exactly (largest-remainder rounding)."""
    if not weights:
        return []
    clean = [w if (isinstance(w, (int, float)) and math.isfinite(w) and w > 0) else 0.0 for w in weights]
    s = sum(clean)
    if s <= 0:
        clean, s = [1.0] * len(weights), float(len(weights))
    exact = [w * total / s for w in clean]
    floors = [math.floor(x) for x in exact]
    short = total - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors


_LEADING_NUMBER = re.compile(r"^\s*(?:(?:section|part|chapter)\s+)?(?:\d+|[ivx]+)\s*[.):、：:-]\s*|^\s*[-*#]+\s*", re.IGNORECASE)


def _clean_str(value: Any, limit: int) -> str:
    text = " ".join(str(value or "").split())
    return text[:limit].strip()


def _degenerate_title(title: str) -> bool:
    """A title that loops ("The best part: The best part: ...") is a model failure, not a title."""
    return count_words(title) >= 6 and ngram_repetition(title, 2) > 0.3


_STOP = frozenset((
    "a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with", "from", "by", "its", "his",
    "her", "their", "our", "your", "my", "is", "are", "was", "were", "be", "this", "that", "these", "those",
    "part", "section", "chapter",
))
_META = re.compile(
    r"\b(?:this|these|each|our|the (?:first|second|third|next|following|final|last|previous))\s+"
    r"(?:section|chapter|paragraph|essay|article|text|paper|guide|report|piece)s?\b"
    r"|\b\d+[- ]words?\b|\bwords? (?:long|count)\b|本[节章篇文]|这一?[节章篇]",
    re.IGNORECASE,
)


def title_key(title: str) -> frozenset[str]:
    """The content words of a title: "A Family" and "The Family" have the same key."""
    words = [w.lower() for w in re.findall(r"\w+", _PART_SUFFIX.sub("", title))]
    content = frozenset(w for w in words if w not in _STOP)
    return content or frozenset(words)


def near_duplicate(key: frozenset[str], seen: list[frozenset[str]]) -> bool:
    """Same content words, one title's words within the other's ("The World" and "The World of the
    Girl"), or mostly the same (Jaccard >= 0.6)."""
    for other in seen:
        if key == other or (key and other and (key <= other or other <= key or len(key & other) / len(key | other) >= 0.6)):
            return True
    return False


def describes_the_text(point: str) -> bool:
    """A main point about the text instead of its content ("In this section we explain...")."""
    return _META.search(point) is not None


def _clean_title(value: Any) -> str:
    """A title without the numbering or list marks a model adds ("1. ", "Section 2: ", "- ")."""
    text = _clean_str(value, TITLE_MAX_CHARS)
    stripped = _LEADING_NUMBER.sub("", text, count=1).strip().strip('"*').strip()
    return stripped or text


def normalize_plan(
    raw_sections: list[dict[str, Any]], target_words: int, n_sections: int, lang: str = "en"
) -> list[dict[str, Any]]:
    """Turn whatever the model proposed into exactly `n_sections` sections whose budgets sum to the target.

    Empty or duplicate titles are dropped; too many sections are cut; too few are split (the section
    with the largest weight becomes "part 1", "part 2"...). Budgets: half the model's proportions,
    half an even split (so one absurd number cannot starve the others), then rescaled to the target.
    """
    secs = [dict(s, weight=s["words"]) for s in distinct_sections(raw_sections)]
    if not secs:
        secs = [dict(s, weight=0.0) for s in generic_outline(n_sections, lang)]
    secs = secs[:n_sections]
    # Mix the model's proportions with an even split; proportions only where every section has one
    # (the schema's "words" is optional: a few numbered sections among unnumbered ones are no proportions).
    if not all(s["weight"] > 0 for s in secs):
        for s in secs:
            s["weight"] = 0.0
    total_w = sum(s["weight"] for s in secs)
    for s in secs:
        share = s["weight"] / total_w if total_w > 0 else 1.0 / len(secs)
        s["weight"] = 0.5 * share + 0.5 / len(secs)
    # Split the heaviest section until there are enough.
    parts: list[dict[str, Any]] = [dict(s, part=1, of=1) for s in secs]
    while len(parts) < n_sections:
        i = max(range(len(parts)), key=lambda k: (parts[k]["weight"], -k))
        base = parts[i]
        groups = [p for p in parts if p["title"] == base["title"]]
        k = len(groups) + 1
        # Re-split the whole group of that title into k equal parts.
        group_weight = sum(p["weight"] for p in groups)
        first = parts.index(groups[0])
        new_group = [dict(base, weight=group_weight / k, part=j + 1, of=k) for j in range(k)]
        parts = parts[:first] + new_group + [p for p in parts[first:] if p["title"] != base["title"]]
    budgets = rescale([p["weight"] for p in parts], target_words)
    out = []
    for p, words in zip(parts, budgets):
        title = p["title"]
        if p["of"] > 1 and p["part"] > 1:
            k = p["part"] - 1
            if lang == "zh":
                title += "（续）" if k == 1 else f"（续{k}）"
            else:
                title += " (continued)" if k == 1 else f" (continued {k})"
        out.append({"title": title, "main_point": p["main_point"], "words": int(words)})
    return out


_GENERIC_EN = [
    ("Introduction", "Introduce the subject, why it matters and what the text will cover."),
    ("Background", "Give the background and the context the reader needs."),
    ("Main developments", "Describe the main developments, with concrete details and examples."),
    ("Key examples", "Work through specific examples, cases or scenes in depth."),
    ("Challenges", "Discuss the difficulties, conflicts or open questions."),
    ("Wider impact", "Explain the wider effects and what they mean."),
    ("Looking ahead", "Consider what comes next and the possible futures."),
    ("Conclusion", "Draw the threads together and close the text."),
]
_GENERIC_ZH = [
    ("引言", "介绍主题、它的重要性以及全文要讲的内容。"),
    ("背景", "交代读者需要了解的背景与来龙去脉。"),
    ("主要发展", "叙述主要的发展过程，给出具体细节和例子。"),
    ("典型事例", "深入讲述具体的事例、案例或场景。"),
    ("困难与挑战", "讨论其中的困难、冲突或悬而未决的问题。"),
    ("更广泛的影响", "说明更广泛的影响及其意义。"),
    ("展望", "思考接下来的发展和可能的未来。"),
    ("结语", "总结全文，收束全篇。"),
]


def generic_outline(n_sections: int, lang: str = "en") -> list[dict[str, Any]]:
    """A deterministic outline of `n_sections` sections (no budgets), for the fallback plan."""
    base = _GENERIC_ZH if lang == "zh" else _GENERIC_EN
    if n_sections <= 1:
        return [{"title": base[0][0], "main_point": base[0][1]}]
    if n_sections <= len(base):
        picks = [base[0]] + base[1 : n_sections - 1] + [base[-1]]
        picks = picks[:n_sections]
        return [{"title": t, "main_point": p} for t, p in picks]
    middle = base[1:-1]
    out = [{"title": base[0][0], "main_point": base[0][1]}]
    n_mid = n_sections - 2
    for j in range(n_mid):
        t, p = middle[j * len(middle) // n_mid]
        part = sum(1 for k in range(j) if middle[k * len(middle) // n_mid][0] == t) + 1
        out.append({"title": f"{t} {part}" if lang != "zh" else f"{t}（{part}）", "main_point": p})
    out.append({"title": base[-1][0], "main_point": base[-1][1]})
    return out


_PART_SUFFIX = re.compile(r"\s*(?:\(continued(?: \d+)?\)|（续\d*）)$")


def distinct_sections(raw_sections: list[Any] | None) -> list[dict[str, Any]]:
    """The model's sections, cleaned, without empty, looping or (near-)duplicate titles; words is the
    model's number (0.0 when missing). A main point that describes the text gives way to the title."""
    keys: list[frozenset[str]] = []
    out: list[dict[str, Any]] = []
    for s in raw_sections or []:
        if not isinstance(s, dict):
            continue
        title = _clean_title(s.get("title"))
        if not count_words(title) or _degenerate_title(title):  # empty, or only "..." copied from the prompt
            continue
        key = title_key(title)
        if near_duplicate(key, keys):
            continue
        keys.append(key)
        point = _clean_str(s.get("main_point"), POINT_MAX_CHARS)
        if not count_words(point) or describes_the_text(point):
            point = title
        w = s.get("words")
        out.append({"title": title, "main_point": point,
                    "words": float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 else 0.0})
    return out


def fallback_plan(target_words: int, n_sections: int, lang: str = "en") -> dict[str, Any]:
    """The deterministic plan value used when the model never produced valid JSON."""
    outline = generic_outline(n_sections, lang)
    budgets = rescale([1.0] * len(outline), target_words)
    return {"sections": [dict(s, words=w) for s, w in zip(outline, budgets)]}


def plan_schema(n_sections: int, exact: bool = False) -> dict[str, Any]:
    """The plan schema bounded to `n_sections` items; `exact` also sets minItems (for backends whose
    constrained decoding enforces it: a weak model then cannot stop short)."""
    schema = load_schema(SCHEMA)
    schema["properties"]["sections"]["maxItems"] = max(1, n_sections)
    if exact:
        schema["properties"]["sections"]["minItems"] = max(1, n_sections)
    return schema


async def make_plan(
    model: ChatModel,
    instruction: str,
    target_words: int,
    n_sections: int,
    *,
    lang: str = "en",
    seed: int | None = 0,
    temperature: float = 0.5,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Ask the model for an outline; return (sections, meta). Never raises on bad JSON."""
    per_section = max(1, round(target_words / n_sections))
    asked = min(n_sections, FIRST_ROUND_SECTIONS)
    messages = render_messages(
        PROMPT, lang, instruction=instruction, n_sections=n_sections, target_words=target_words, per_section=per_section,
        asked=asked,
    )
    # Room for the sections asked of JSON: ~60 tokens each for a short title and one sentence.
    max_tokens = min(64 + 110 * asked, max(256, (model.n_ctx * 3) // 4))
    exact = bool(getattr(model.backend, "supports_json_schema", False))
    params = GenParams(
        max_tokens=max_tokens, temperature=temperature, top_p=0.95, seed=seed, json_schema=plan_schema(asked, exact),
        no_repeat_ngram=TITLE_BLOCK_NGRAM,
    )
    completion = await model.complete(
        messages, params, fallback=lambda: fallback_plan(target_words, n_sections, lang), tag="plan"
    )
    raw = (completion.parsed or {}).get("sections", []) if isinstance(completion.parsed, dict) else []
    sections = normalize_plan(raw, target_words, n_sections, lang)
    call = _call_meta(completion)
    meta = {
        "fallback": bool(completion.fallback),
        "model_sections": len(raw),
        "sections": len(sections),
        "distinct": 0 if completion.fallback else len(distinct_sections(raw)),
        "rounds": 1,
        "stalled_rounds": 0,
        "repairs": call["repairs"],
        "usage": dict(call["usage"]),
        "last_call": call,
        "cached": completion.cached,
        "latency_s": call["latency_s"],
        "raw": raw,
    }
    return sections, meta


def _call_meta(completion: Any) -> dict[str, Any]:
    return {
        "repairs": completion.meta.get("repairs", 0),
        "usage": {"prompt_tokens": completion.usage.prompt_tokens, "completion_tokens": completion.usage.completion_tokens},
        "latency_s": round(completion.latency_s, 3),
    }


def needs_more(meta: dict[str, Any], n_sections: int, max_rounds: int) -> bool:
    """Ask again? Not after a fallback outline, not once the plan has a distinct part per section,
    and not past `max_rounds` calls or after two rounds that added nothing."""
    return (
        not meta.get("fallback")
        and meta.get("distinct", 0) < n_sections
        and meta.get("rounds", 1) < max_rounds
        and meta.get("stalled_rounds", 0) < 2
    )


_CLOSING = re.compile(r"\b(conclusion|conclusions|epilogue|summary|final thoughts|closing|ending|the end)\b|结语|总结|尾声",
                      re.IGNORECASE)


def merge_sections(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`new` sections after `old`, but before a closing section ("Conclusion") that ends `old`."""
    if old and len(old) > 1 and _CLOSING.search(str(old[-1].get("title", ""))):
        return old[:-1] + new + old[-1:]
    return old + new


async def extend_plan(
    model: ChatModel,
    instruction: str,
    target_words: int,
    n_sections: int,
    meta: dict[str, Any],
    *,
    lang: str = "en",
    seed: int | None = 0,
    temperature: float = 0.7,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One more planning call: ask for the sections still missing; return (sections, meta) of the
    grown plan. A reply that does not validate adds nothing (never raises)."""
    have = distinct_sections(meta.get("raw"))
    m = max(1, min(MORE_PER_ROUND, n_sections - len(have)))
    per_section = max(1, round(target_words / n_sections))
    before_last = len(have) > 1 and _CLOSING.search(have[-1]["title"]) is not None
    messages = render_messages(
        MORE_PROMPT, lang, instruction=instruction, sections=have, m=m, per_section=per_section,
        before_last=before_last, target_words=target_words,
    )
    rounds = int(meta.get("rounds", 1))
    round_seed = None if seed is None else seed + 7919 * rounds
    params = GenParams(
        max_tokens=min(64 + 110 * m, max(256, (model.n_ctx * 3) // 4)), temperature=temperature, top_p=0.95,
        seed=round_seed, json_schema=plan_schema(m, bool(getattr(model.backend, "supports_json_schema", False))),
        no_repeat_ngram=TITLE_BLOCK_NGRAM, history=tuple(t for s in have for t in (s["title"], s["main_point"])),
    )
    completion = await model.complete(messages, params, fallback=lambda: {"sections": []}, tag=f"plan-more{rounds}")
    new_raw = (completion.parsed or {}).get("sections", []) if isinstance(completion.parsed, dict) else []
    merged = merge_sections(list(meta.get("raw") or []), [x for x in new_raw if isinstance(x, dict)])
    distinct = len(distinct_sections(merged))
    call = _call_meta(completion)
    usage = dict(meta.get("usage") or {})
    for k, v in call["usage"].items():
        usage[k] = usage.get(k, 0) + v
    sections = normalize_plan(merged, target_words, n_sections, lang)
    grown = {
        **meta,
        "model_sections": int(meta.get("model_sections", 0)) + len(new_raw),
        "sections": len(sections),
        "distinct": distinct,
        "rounds": rounds + 1,
        "stalled_rounds": int(meta.get("stalled_rounds", 0)) + (1 if distinct <= len(have) else 0),
        "repairs": int(meta.get("repairs", 0)) + call["repairs"],
        "usage": usage,
        "last_call": call,
        "latency_s": round(float(meta.get("latency_s", 0.0)) + call["latency_s"], 3),
        "raw": merged,
    }
    return sections, grown
