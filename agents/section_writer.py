"""Section writer agent: writes one planned section, one model call per graph step.

Prompt: `section_writer` (system = role + instruction + plan outline: byte-identical for every call
of a run; user = memory + the current section's title, point and budget) and, for continuations,
`section_continue` appended after the section's text so far. No output schema: prose.

Length is controlled by the program, not hoped for from the model:
- the section budget is the planned share of the words still missing (`section_budget`), so a
  shortfall or overshoot in one section is absorbed by the ones after it;
- a reply is sized in tokens for the words still needed, with tokens per word learnt from the run;
  it may not end before 0.9 of that, and past it ends at its next sentence end (embedded), so no
  unfinished sentence is decoded for nothing;
- a short section is continued (bounded), a long one cut at a paragraph or sentence boundary;
- a chunk that makes the section loop (`has_degenerate_loop`) is regenerated with a new seed
  (bounded), and after the last try only its part before the loop is kept.

Repetition is fought where it is made, since every repeated sentence was also decoded for nothing:
- every call passes the manuscript so far as `history` with `no_repeat_ngram`: backends that support
  it (embedded) never emit a token n-gram that is already in the text, nor loop within the reply;
- frequency and presence penalties for the backends that only have those;
- `remove_repeats` drops, from each chunk, sentences that mostly restate earlier text and sentences
  about the text itself ("The first section is dedicated to ..."), and heading lines the model adds.
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
    cut_at_nearest_sentence_end,
    has_degenerate_loop,
    split_paragraphs,
    split_sentences,
    tail_words,
    trim_incomplete_tail,
    truncate_words,
)
from longform.text import words as text_words

PROMPT = "section_writer"
CONTINUE_PROMPT = "section_continue"
SCHEMA = None  # prose

DEFAULT_TOKENS_PER_WORD = {"en": 1.25, "zh": 1.6}  # decoded tokens per decoded word; learnt during a run


@dataclass(frozen=True)
class SectionSettings:
    """Bounds and sampling for the section writer (every loop is bounded by these counters)."""

    max_continuations: int = 3  # extra calls for a short section
    max_continuations_last: int = 6  # the last section absorbs what the others missed
    max_regenerations: int = 2  # new-seed retries of a chunk that loops
    short_tolerance: float = 0.10  # a section under (1 - tol) x budget is continued
    short_tolerance_last: float = 0.10  # the same for the last section, where the manuscript's length is decided
    long_tolerance: float = 0.10  # a section over (1 + tol) x budget is cut to the budget
    min_progress_words: int = 15  # a continuation adding fewer words ends the section
    max_call_tokens: int = 1024  # per call; a 135M model drifts past ~400 words
    min_call_tokens: int = 48
    continuation_tail_words: int = 200  # section-so-far shown to a continuation
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float | None = 1.1
    frequency_penalty: float | None = 0.2  # OpenAI-compatible servers; llama.cpp: over the last 64 tokens
    presence_penalty: float | None = 0.2
    no_repeat_ngram: int | None = 6  # token n-grams of the manuscript so far that may not recur (embedded)
    end_at_sentence: bool = True  # past the tokens the words needed take, the reply ends at its next sentence
    # end (embedded; other backends stop at max_tokens): no unfinished last sentence decoded and dropped
    max_tokens_margin: float = 1.15  # max_tokens = the reply's tokens x this (+16): the bound on a sentence that
    # does not end; a section past (1 + long_tolerance) x budget is cut, so a wider one decodes words thrown away
    min_tokens_share: float | None = 0.9  # the reply may not end before this share of its tokens: a short
    # first draft would cost a continuation call that reads its prompt again
    repeat_share: float = 0.5  # a sentence with this share of its word 4-grams already written is dropped


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
    # No heading: a one-section manuscript (assembled without one), or a continued part.
    heading = 0 if len(plan) == 1 or (index > 0 and is_continued_part(title)) else heading_words(title)
    return max(min_words, round(share) - heading)


def reply_tokens(words_needed: int, tokens_per_word: float) -> int:
    """Tokens a reply of `words_needed` words takes."""
    return math.ceil(max(0, words_needed) * tokens_per_word)


def max_tokens_for(words_needed: int, tokens_per_word: float, settings: SectionSettings) -> int:
    want = math.ceil(reply_tokens(words_needed, tokens_per_word) * settings.max_tokens_margin) + 16
    return max(settings.min_call_tokens, min(settings.max_call_tokens, want))


def min_tokens_for(words_needed: int, tokens_per_word: float, max_tokens: int, settings: SectionSettings) -> int | None:
    """Tokens the reply must reach before it may end (None: no floor)."""
    if not settings.min_tokens_share:
        return None
    want = math.floor(reply_tokens(words_needed, tokens_per_word) * settings.min_tokens_share)
    return min(want, max_tokens - 16) if want >= settings.min_call_tokens else None


def end_after_for(words_needed: int, tokens_per_word: float, max_tokens: int, settings: SectionSettings) -> int | None:
    """Tokens after which the reply ends at its next sentence end (None: only max_tokens ends it)."""
    if not settings.end_at_sentence:
        return None
    return min(reply_tokens(words_needed, tokens_per_word), max_tokens)


def update_tokens_per_word(current: float, completion: Completion) -> float:
    """Learn the backend's tokens per word from the text it decoded (`completion.text`, before any
    sentence is dropped: a chunk that lost most of its sentences as repeats once read as 27 tokens a
    word and sized the next calls for twice the words needed). Tiny samples are ignored. The newest
    call weighs most: the default guess is often 10-20% off, and every call sized by a high guess
    decodes words that are then cut."""
    w = count_words(completion.text)
    if w < 20 or completion.usage.completion_tokens <= 0:
        return current
    observed = completion.usage.completion_tokens / w
    return round(0.4 * current + 0.6 * min(4.0, max(0.5, observed)), 4)


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
    title = _PART_SUFFIX.sub("", sec["title"])
    point = sec["main_point"] if _PART_SUFFIX.sub("", sec["main_point"]) != title else title
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
        title=title,
        main_point=point,
        continued=index > 0 and is_continued_part(sec["title"]),
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
                    title=title,
                    words=max(1, words_needed if words_needed is not None else budget - count_words(draft)),
                ),
            }
        )
    return messages


_HEADING_LINE = re.compile(r"^\s*(#{1,6}\s.*|\*\*[^*\n]{1,120}\*\*:?|(part|section|chapter)\s+\d+\b.{0,100}|第.{1,4}[部章节].{0,40})\s*$", re.IGNORECASE)


_INNER_HEADING = re.compile(r"^\s*(#{1,6}\s.*|(part|section|chapter)\s+\d+\b.{0,100}|第.{1,4}[部章节].{0,40})\s*$", re.IGNORECASE)
_ABOUT_THE_TEXT = re.compile(
    r"\b(?:this|these|the (?:first|second|third|next|following|final|last|previous))\s+"
    r"(?:section|chapter|paragraph|essay|article|text|paper|guide|report)s?\s+(?:is|are|was|will|has|have|"
    r"covers?|explores?|discuss(?:es)?|describes?|examines?|focus(?:es)?|provides?|presents?|delves?|aims?|"
    r"dedicated|devoted|looks?|takes?|introduces?)\b"
    r"|\bin (?:this|the (?:first|next|following|last|final)) (?:section|chapter|essay|article|paper|guide|report)\b"
    r"|\(\s*\d+\s*words?\s*\)|\bword count\b|本[节章篇文]|这一?[节章篇]",
    re.IGNORECASE,
)


def clean_chunk(text: str, title: str = "") -> str:
    """The model's prose without heading lines it may add (the program writes headings): a leading
    heading or title line, and "## ..." / "Section 2: ..." lines anywhere."""
    lines = text.strip().split("\n")
    while lines and (not lines[0].strip() or _HEADING_LINE.match(lines[0]) or (title and lines[0].strip().strip("#*:\" ").lower() == title.lower())):
        lines.pop(0)
    lines = [ln for ln in lines if not _INNER_HEADING.match(ln)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _grams(tokens: list[str], n: int = 4) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def written_ngrams(texts: list[str] | tuple[str, ...], n: int = 4) -> set[tuple[str, ...]]:
    """The word n-grams (lower case) of the text written so far."""
    out: set[tuple[str, ...]] = set()
    for t in texts:
        out.update(_grams([w.lower() for w in text_words(t)], n))
    return out


def remove_repeats(chunk: str, seen: set[tuple[str, ...]], share: float = 0.5, n: int = 4) -> tuple[str, int]:
    """`chunk` without the sentences that talk about the text itself or that mostly restate what was
    written (`share` of their word n-grams in `seen`, or earlier in the chunk). Returns (text, words
    dropped). `seen` is not changed."""
    seen = set(seen)
    kept_paras: list[str] = []
    dropped = 0
    for para in split_paragraphs(chunk):
        kept: list[str] = []
        for sent in split_sentences(para):
            grams = _grams([w.lower() for w in text_words(sent)], n)
            old = sum(1 for g in grams if g in seen)
            if _ABOUT_THE_TEXT.search(sent) or (grams and old / len(grams) >= share):
                dropped += count_words(sent)
                continue
            seen.update(grams)
            kept.append(sent)
        if kept:
            kept_paras.append(" ".join(kept))
    return "\n\n".join(kept_paras), dropped


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


def finalize_section(text: str, budget: int, settings: SectionSettings = SectionSettings(),
                     is_last: bool = True) -> tuple[str, bool]:
    """Cut an over-long section and drop a trailing unfinished sentence; returns (text, whether
    complete sentences were cut). The last section ends at the sentence end nearest its budget (the
    manuscript's length is decided there); an earlier one is cut only past its budget plus the
    tolerance: the sections after it absorb the difference, and words already decoded are kept."""
    if is_last:
        complete = count_words(trim_incomplete_tail(text))
        text = cut_at_nearest_sentence_end(text, budget).strip()
        return text, count_words(text) < complete
    limit = budget * (1 + settings.long_tolerance)
    truncated = False
    if count_words(text) > limit:
        text = truncate_words(text, math.floor(limit))
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
    history: tuple[str, ...] = (),
) -> Completion:
    """One section call. `history`: the manuscript so far (finished sections, then the draft), whose
    n-grams the backend may not repeat (`settings.no_repeat_ngram`)."""
    max_tokens = max_tokens_for(words_needed, tokens_per_word, settings)
    params = GenParams(
        max_tokens=max_tokens,
        min_tokens=min_tokens_for(words_needed, tokens_per_word, max_tokens, settings),
        end_at_sentence_after=end_after_for(words_needed, tokens_per_word, max_tokens, settings),
        temperature=settings.temperature,
        top_p=settings.top_p,
        seed=seed,
        repeat_penalty=settings.repeat_penalty,
        frequency_penalty=settings.frequency_penalty,
        presence_penalty=settings.presence_penalty,
        no_repeat_ngram=settings.no_repeat_ngram,
        history=tuple(t for t in history if t.strip()) if settings.no_repeat_ngram else (),
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
    short_tolerance = settings.short_tolerance_last if is_last else settings.short_tolerance
    candidate = join_text(draft, chunk)
    if chunk and has_degenerate_loop(candidate):
        if regenerations < settings.max_regenerations:
            return {"draft": draft, "next": "write", "continuations": continuations,
                    "regenerations": regenerations + 1, "event": "regenerate"}
        kept = join_text(draft, cut_before_loop(draft, chunk))
        # Keep what came before the loop; a section still short goes on (bounded by continuations).
        go_on = count_words(kept) < budget * (1 - short_tolerance) and continuations < limit
        return {"draft": kept, "next": "write" if go_on else "finish",
                "continuations": continuations + (1 if go_on else 0), "regenerations": regenerations,
                "event": "loop_cut"}
    # Judged without a trailing unfinished sentence: a reply cut by max_tokens loses it when the
    # section is finished, and a section must not be called long enough on words it will not keep.
    words = count_words(trim_incomplete_tail(candidate))
    added = count_words(chunk)
    if words >= budget * (1 - short_tolerance):
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
