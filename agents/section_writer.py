"""Section writer agent: writes one planned section, one model call per graph step.

Prompt: `section_writer` (system = role + instruction + plan outline: byte-identical for every call
of a run; user = memory + the current section's title, point and budget) and, for continuations,
`section_continue` appended after the section's text so far. No output schema: prose.

Length is controlled by the program, not hoped for from the model:
- the section budget is the planned share of the words still missing (`section_budget`), so a
  shortfall or overshoot in one section is absorbed by the ones after it;
- max_tokens follows the words still needed, with a tokens-per-word estimate learnt from the run;
- a short section is continued (bounded), a long one cut at a paragraph or sentence boundary;
- a chunk that makes the section loop (`has_degenerate_loop`) is regenerated with a new seed
  (bounded), and after the last try only its part before the loop is kept.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from longform.agents.memory import summary_text

from longform.llm import ChatModel, Completion, GenParams, Message
from longform.prompting import render, render_messages
from longform.text import (
    count_words,
    has_degenerate_loop,
    split_paragraphs,
    split_sentences,
    tail_words,
    trim_incomplete_tail,
    truncate_words,
)

PROMPT = "section_writer"
CONTINUE_PROMPT = "section_continue"
SCHEMA = None  # prose

DEFAULT_TOKENS_PER_WORD = {"en": 1.35, "zh": 1.6}


@dataclass(frozen=True)
class SectionSettings:
    """Bounds and sampling for the section writer (every loop is bounded by these counters)."""

    max_continuations: int = 3  # extra calls for a short section
    max_continuations_last: int = 6  # the last section absorbs what the others missed
    max_regenerations: int = 2  # new-seed retries of a chunk that loops
    short_tolerance: float = 0.10  # a section under (1 - tol) x budget is continued
    long_tolerance: float = 0.10  # a section over (1 + tol) x budget is cut to the budget
    min_progress_words: int = 15  # a continuation adding fewer words ends the section
    max_call_tokens: int = 1024  # per call; a 135M model drifts past ~400 words
    min_call_tokens: int = 48
    continuation_tail_words: int = 200  # section-so-far shown to a continuation
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float | None = 1.1


def call_seed(base: int | None, section: int, call: int, regeneration: int) -> int | None:
    """A deterministic, distinct seed for each call of a run (None stays None: unseeded)."""
    if base is None:
        return None
    return (base * 1_000_003 + section * 1_009 + call * 101 + regeneration * 7_919) % (2**31 - 1)


def heading_words(title: str) -> int:
    return count_words(title)


def section_budget(plan: list[dict[str, Any]], index: int, words_so_far: int, target_words: int, min_words: int = 30) -> int:
    """Words section `index` should have: its planned share of what is still missing.

    words_so_far counts the assembled manuscript (headings included); the section's own heading
    (none for a continued part of a split section) is taken off its budget.
    """
    remaining = target_words - words_so_far
    rest = plan[index:]
    planned_rest = sum(max(1, s["words"]) for s in rest)
    share = remaining * max(1, plan[index]["words"]) / planned_rest
    title = plan[index]["title"]
    heading = 0 if (index > 0 and is_continued_part(title)) else heading_words(title)
    return max(min_words, round(share) - heading)


def max_tokens_for(words_needed: int, tokens_per_word: float, settings: SectionSettings) -> int:
    want = math.ceil(max(0, words_needed) * tokens_per_word * 1.25) + 16
    return max(settings.min_call_tokens, min(settings.max_call_tokens, want))


def update_tokens_per_word(current: float, completion: Completion, text: str) -> float:
    """Learn the backend's tokens per word from what it produced (ignores tiny samples)."""
    w = count_words(text)
    if w < 20 or completion.usage.completion_tokens <= 0:
        return current
    observed = completion.usage.completion_tokens / w
    return round(0.7 * current + 0.3 * min(4.0, max(0.5, observed)), 4)


_PART_SUFFIX = re.compile(r"\s*(?:\(continued(?: \d+)?\)|（续\d*）)$")
OUTLINE_TITLE_WORDS = 12


def is_continued_part(title: str) -> bool:
    """True for the 2nd, 3rd... part of a section the planner split ("Title (continued 2)")."""
    return _PART_SUFFIX.search(title) is not None


def outline(plan: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The plan as the prompt shows it: consecutive parts of one split section on one line
    ("3-7. Title"), titles cut to OUTLINE_TITLE_WORDS words, so the fixed prefix stays short
    however many sections a long target needs."""
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(plan, start=1):
        base = _PART_SUFFIX.sub("", s["title"])
        if rows and rows[-1]["base"] == base and base != s["title"]:
            rows[-1]["last"] = i
            continue
        rows.append({"base": base, "first": i, "last": i})
    out = []
    for r in rows:
        label = str(r["first"]) if r["first"] == r["last"] else f"{r['first']}-{r['last']}"
        title = r["base"]
        if count_words(title) > OUTLINE_TITLE_WORDS:
            title = truncate_words(title, OUTLINE_TITLE_WORDS, min_keep=0.0) + "…"
        out.append({"label": label, "title": title})
    return out


def section_messages(
    *,
    instruction: str,
    plan: list[dict[str, Any]],
    target_words: int,
    index: int,
    budget: int,
    memory: dict[str, Any],
    lang: str,
    draft: str = "",
    words_needed: int | None = None,
    settings: SectionSettings = SectionSettings(),
) -> list[Message]:
    """Messages for one call: fixed prefix (instruction + plan), then memory, then the step.

    A continuation appends the section's text so far (its tail) as the assistant's turn and asks to
    go on, so its prefix is the same as the section's first call.
    """
    sec = plan[index]
    messages = render_messages(
        PROMPT,
        lang,
        instruction=instruction,
        outline=outline(plan),
        n_sections=len(plan),
        target_words=target_words,
        summary=summary_text(memory),
        tail=memory.get("tail", ""),
        index=index + 1,
        title=sec["title"],
        main_point=sec["main_point"],
        words=budget,
        is_last=index == len(plan) - 1,
    )
    if draft.strip():
        messages.append({"role": "assistant", "content": tail_words(draft, settings.continuation_tail_words)})
        messages.append(
            {
                "role": "user",
                "content": render(
                    CONTINUE_PROMPT,
                    "user",
                    lang,
                    index=index + 1,
                    title=sec["title"],
                    words=max(1, words_needed if words_needed is not None else budget - count_words(draft)),
                ),
            }
        )
    return messages


_HEADING_LINE = re.compile(r"^\s*(#{1,6}\s.*|\*\*[^*\n]{1,120}\*\*:?|(part|section|chapter)\s+\d+\b.{0,100}|第.{1,4}[部章节].{0,40})\s*$", re.IGNORECASE)


def clean_chunk(text: str, title: str = "") -> str:
    """The model's prose without a leading heading line it may add (the program writes headings)."""
    lines = text.strip().split("\n")
    while lines and (not lines[0].strip() or _HEADING_LINE.match(lines[0]) or (title and lines[0].strip().strip("#*:\" ").lower() == title.lower())):
        lines.pop(0)
    return "\n".join(lines).strip()


def join_text(a: str, b: str) -> str:
    """Append a chunk: a new paragraph when it starts one, else continue the sentence's paragraph."""
    a, b = a.rstrip(), b.strip()
    if not a:
        return b
    if not b:
        return a
    return f"{a}\n\n{b}" if a[-1] in ".!?。！？\"”'’)）" else f"{a} {b}"


def cut_before_loop(prefix: str, chunk: str) -> str:
    """The longest head of `chunk` (whole paragraphs, then sentences) whose addition does not loop."""
    kept = ""
    for para in split_paragraphs(chunk):
        trial = join_text(kept, para)
        if not has_degenerate_loop(join_text(prefix, trial)):
            kept = trial
            continue
        partial = ""
        for sent in split_sentences(para):
            t2 = f"{partial} {sent}" if partial else sent
            if has_degenerate_loop(join_text(prefix, join_text(kept, t2))):
                break
            partial = t2
        return join_text(kept, partial) if partial else kept
    return kept


def finalize_section(text: str, budget: int, settings: SectionSettings = SectionSettings()) -> tuple[str, bool]:
    """Cut an over-long section to its budget and drop a trailing unfinished sentence."""
    truncated = False
    if count_words(text) > budget * (1 + settings.long_tolerance):
        text = truncate_words(text, budget)
        truncated = True
    text = trim_incomplete_tail(text).strip()
    return text, truncated


async def write_call(
    model: ChatModel,
    messages: list[Message],
    *,
    words_needed: int,
    tokens_per_word: float,
    seed: int | None,
    tag: str,
    settings: SectionSettings = SectionSettings(),
) -> Completion:
    params = GenParams(
        max_tokens=max_tokens_for(words_needed, tokens_per_word, settings),
        temperature=settings.temperature,
        top_p=settings.top_p,
        seed=seed,
        repeat_penalty=settings.repeat_penalty,
    )
    return await model.complete(messages, params, tag=tag)


def decide_after_chunk(
    *,
    draft: str,
    chunk: str,
    budget: int,
    continuations: int,
    regenerations: int,
    is_last: bool,
    settings: SectionSettings = SectionSettings(),
) -> dict[str, Any]:
    """Pure control logic after one call: what the draft becomes and what happens next.

    Returns {"draft", "next": "write"|"finish", "continuations", "regenerations", "event"} where
    event is one of "regenerate" (the chunk loops or adds next to nothing: retry with a new seed),
    "loop_cut", "continue", "enough", "stalled", "max_continuations".
    """
    limit = settings.max_continuations_last if is_last else settings.max_continuations
    candidate = join_text(draft, chunk)
    if chunk and has_degenerate_loop(candidate):
        if regenerations < settings.max_regenerations:
            return {"draft": draft, "next": "write", "continuations": continuations,
                    "regenerations": regenerations + 1, "event": "regenerate"}
        kept = join_text(draft, cut_before_loop(draft, chunk))
        # Keep what came before the loop; a section still short goes on (bounded by continuations).
        go_on = count_words(kept) < budget * (1 - settings.short_tolerance) and continuations < limit
        return {"draft": kept, "next": "write" if go_on else "finish",
                "continuations": continuations + (1 if go_on else 0), "regenerations": regenerations,
                "event": "loop_cut"}
    words = count_words(candidate)
    added = count_words(chunk)
    if words >= budget * (1 - settings.short_tolerance):
        event, nxt = "enough", "finish"
    elif added < settings.min_progress_words and regenerations < settings.max_regenerations:
        # Next to nothing (a list of titles, an empty reply): try again with a new seed.
        return {"draft": draft, "next": "write", "continuations": continuations,
                "regenerations": regenerations + 1, "event": "regenerate"}
    elif added < settings.min_progress_words:
        event, nxt = "stalled", "finish"
    elif continuations >= limit:
        event, nxt = "max_continuations", "finish"
    else:
        event, nxt = "continue", "write"
    return {"draft": candidate, "next": nxt, "continuations": continuations + (1 if nxt == "write" else 0),
            "regenerations": regenerations, "event": event}
