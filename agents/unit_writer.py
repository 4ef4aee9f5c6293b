"""Unit writer agent: writes one unit of a constrained text, one model call per graph step.

Prompts: `cogwriter_unit` (system = role + instruction + global plan + outline of all units + global
rules: byte-identical for every call of a run; user = the neighbours' plan items, this unit's item,
its constraints and keywords, its budget), `cogwriter_unit_continue` (a continuation after the
unit's text so far) and `cogwriter_revise` (one more paragraph, at the unit's end, that meets the constraints the
reviewer found unmet). Prose, no schema. Writers of different units run in parallel: a unit sees
the plan, never another unit's text.

Length is the monitor's job (`agents/monitor.py`); this module reuses the section writer's
sampling and cleaning so AgentWrite and CogWriter write the same way.
"""

from __future__ import annotations

import math
from typing import Any

from longform.agents import section_writer
from longform.agents.monitor import fit_length
from longform.agents.section_writer import SectionSettings

from longform.constraints.check import norm_tokens, word_grams
from longform.llm import ChatModel, Completion, GenParams, Message
from longform.prompting import render, render_messages
from longform.text import count_words, split_paragraphs, split_sentences, tail_words, truncate_words

PROMPT = "cogwriter_unit"
CONTINUE_PROMPT = "cogwriter_unit_continue"
REVISE_PROMPT = "cogwriter_revise"
OUTLINE_WORDS = 14
NEIGHBOUR_WORDS = 40
REVISE_CONTEXT_WORDS = 30
REVISE_MIN_WORDS = 40
REVISE_MAX_WORDS = 90
DEFAULT_SETTINGS = SectionSettings()


def outline_line(item: dict[str, Any]) -> str:
    text = item.get("title") or item.get("summary") or ""
    if count_words(text) > OUTLINE_WORDS:
        text = truncate_words(text, OUTLINE_WORDS, min_keep=0.0) + "…"
    return f"{item['label']}: {text}" if text and text != item["label"] else item["label"]


def neighbour(item: dict[str, Any] | None) -> str:
    if item is None:
        return ""
    text = " ".join(x for x in (item.get("title", ""), item.get("summary", "")) if x)
    if count_words(text) > NEIGHBOUR_WORDS:
        text = truncate_words(text, NEIGHBOUR_WORDS, min_keep=0.0) + "…"
    return f"{item['label']}: {text}" if text else item["label"]


def base_messages(ctx: dict[str, Any], item: dict[str, Any], prev: dict[str, Any] | None, nxt: dict[str, Any] | None,
                  words: int, lang: str) -> list[Message]:
    """[system, user] for a unit's first call. `ctx` holds the run's fixed parts (instruction,
    overview, outline, n_units, target_words, global_rules); `item` the unit's plan item with its
    `requirements` and `keywords` resolved."""
    return render_messages(
        PROMPT, lang, instruction=ctx["instruction"], overview=ctx.get("overview", ""), outline=ctx["outline"],
        n_units=ctx["n_units"], target_words=ctx["target_words"], global_rules=ctx.get("global_rules", []),
        previous=neighbour(prev), next=neighbour(nxt), label=item["label"], title=item.get("title", ""),
        summary=item.get("summary") or item["label"], requirements=item.get("requirements", []),
        keywords=item.get("keywords", []), words=words, is_last=item["n"] == ctx["n_units"],
    )


def write_messages(ctx: dict[str, Any], item: dict[str, Any], prev: dict[str, Any] | None, nxt: dict[str, Any] | None,
                   *, budget: int, draft: str, words_needed: int, lang: str,
                   settings: SectionSettings = DEFAULT_SETTINGS) -> list[Message]:
    """A first draft, or a continuation (the draft's tail as the assistant's turn, then 'go on')."""
    messages = base_messages(ctx, item, prev, nxt, budget, lang)
    if draft.strip():
        messages.append({"role": "assistant", "content": tail_words(draft, settings.continuation_tail_words)})
        messages.append({"role": "user", "content": render(CONTINUE_PROMPT, "user", lang, label=item["label"],
                                                           words=max(1, words_needed))})
    return messages


ECHO_SHARE = 0.5  # a sentence whose word 4-grams are mostly in the prompt is an echo, not writing



def strip_echo(text: str, messages: list[Message], allowed: list[str] = (), forbidden: list[str] = (),
               data: list[str] = ()) -> str:
    """The text without sentences that repeat the prompt: mostly (its instructions, the unit's own
    earlier text, and always the `forbidden` texts: the user's instruction and the requirements, as
    a copied requirement would pass a keyword check without being written), or in any part of the
    prompt's own wording ("Requirement for this part", "the exact words"). What is in `allowed` (the
    plan a unit is meant to follow) may be reused; `data` (text shown in the prompt as material, such
    as the unit so far) is not prompt wording. Numbers are compared as one token, so "Week 3" copied
    as "Week 4" is still an echo."""
    plan, given = set(), set()
    for a in allowed:
        plan.update(word_grams(a))
    for f in forbidden:
        given.update(word_grams(f))
    for d in data:
        given.update(word_grams(d))
    echo, scaffold = set(), set()
    for m in messages:
        grams = word_grams(m["content"])
        echo.update(grams)
        if m["role"] != "assistant":
            scaffold.update(grams)
    echo -= plan
    scaffold -= plan | given
    prompt_words = " " + " ".join(norm_tokens(m["content"]) for m in messages if m["role"] != "assistant") + " " + \
        " ".join(norm_tokens(f) for f in forbidden) + " "
    plan_words = " " + " | ".join(norm_tokens(a) for a in allowed) + " "
    for f in forbidden:
        echo.update(word_grams(f))
    kept_paragraphs = []
    for para in split_paragraphs(text):
        kept = []
        for line in para.split("\n"):
            for sentence in [x for x in split_sentences(line) if x.strip()] or [line]:
                grams = word_grams(sentence)
                if grams and (sum(g in echo for g in grams) / len(grams) >= ECHO_SHARE or any(g in scaffold for g in grams)):
                    continue
                short = f" {norm_tokens(sentence)} "
                if not grams and short.strip() and short in prompt_words and short not in plan_words:
                    continue  # a short fragment of the prompt ("The storm.") is not writing either
                kept.append(sentence.strip())
        if kept:
            kept_paragraphs.append(" ".join(kept))
    return "\n\n".join(kept_paragraphs).strip()


def plan_texts(ctx: dict[str, Any], item: dict[str, Any], prev: dict[str, Any] | None, nxt: dict[str, Any] | None) -> list[str]:
    """What a unit may reuse from its prompt: the global plan and the plan items it sees."""
    out = [ctx.get("overview", ""), *ctx.get("outline", [])]
    for it in (item, prev, nxt):
        if it:
            out += [it.get("title", ""), it.get("summary", "")]
    return [x for x in out if x]


def revise_words(budget: int) -> int:
    """Length of a revision's new closing paragraph."""
    return max(REVISE_MIN_WORDS, min(REVISE_MAX_WORDS, budget // 3))


def revise_messages(ctx: dict[str, Any], item: dict[str, Any], prev: dict[str, Any] | None, nxt: dict[str, Any] | None,
                    *, budget: int, text: str, requirements: list[str], keywords: list[str], lang: str) -> list[Message]:
    """Ask for one more paragraph that meets the unmet constraints: the exact words of literal ones,
    else the requirement. Short on purpose (the unit's last sentences and its plan item, not its
    whole text): a small model given its own text copies it instead of writing the new words."""
    messages = base_messages(ctx, item, prev, nxt, budget, lang)[:1]
    messages.append({"role": "user", "content": render(
        REVISE_PROMPT, "user", lang, label=item["label"], tail=tail_words(text, REVISE_CONTEXT_WORDS),
        summary=item.get("summary", ""), requirements=requirements, keywords=keywords, words=revise_words(budget))})
    return messages


def apply_revision(text: str, paragraph: str, budget: int) -> str:
    """The unit with its new closing paragraph: the old text, cut so that both fit the budget, then
    the paragraph (so the monitor's trimming never cuts away what the revision added)."""
    paragraph = paragraph.strip()
    if not paragraph:
        return text
    room = max(0, budget - count_words(paragraph))
    head = fit_length(text, room)[0] if room > 0 else ""
    return f"{head}\n\n{paragraph}" if head else paragraph


async def call(model: ChatModel, messages: list[Message], *, words_needed: int, tokens_per_word: float,
               seed: int | None, tag: str, settings: SectionSettings = DEFAULT_SETTINGS) -> Completion:
    return await section_writer.write_call(model, messages, words_needed=words_needed, tokens_per_word=tokens_per_word,
                                           seed=seed, tag=tag, settings=settings)


async def revise_call(model: ChatModel, messages: list[Message], *, words: int, tokens_per_word: float,
                      seed: int | None, tag: str, settings: SectionSettings = DEFAULT_SETTINGS) -> Completion:
    params = GenParams(max_tokens=math.ceil(words * tokens_per_word * 1.5) + 16, temperature=settings.temperature,
                       top_p=settings.top_p, seed=seed, repeat_penalty=settings.repeat_penalty)
    return await model.complete(messages, params, tag=tag)
