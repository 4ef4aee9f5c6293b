"""Self-Lengthen's extender: lengthens a response one round at a time, one model call per step.

A round, as in QwenLM/Self-Lengthen (`step2_ext_responses.extend_response`):
1. split the current text at paragraph breaks (at line breaks when there are two paragraphs or
   fewer; at sentence ends when it is one line) and take the first half;
2. expand that half with the `selflengthen_expand` prompt (the half is the "original outline");
3. keep the first two thirds of the expansion's paragraphs (of its sentences when it has fewer than
   three paragraphs): its last part tends to wrap up, which would end the text early;
4. continue from the kept part. The original completes the assistant turn directly, with the whole
   current text as the outline. Through a chat API that is `continue_mode="whole"`: the kept text
   is sent as the assistant's turn with a request to go on (`selflengthen_continue`). A 135M model
   answers that by re-emitting the text it is shown (one round's state, three seeds each: 153 new
   words with the whole text as the outline and a 40-word tail, 231 with the rest of the text as
   the outline and the tail, 1,040 expanding the rest with no tail), so the default `continue_mode="rest"` continues by expanding the rest
   of the current text piece by piece, in order (`rest_pieces`), each piece as the outline.
   A round short of its length goal is continued again, bounded by `round_call_limit`
   (max_round_calls, or one call per round_words_per_call words of the goal), by the pieces, and by
   `max_stalls` calls in a row that add next to nothing.
Before a chunk joins the round's text, lines that talk about the task and sentences that copy a
long n-gram already written are dropped (`response_check`): a weak model copies from its outline.
An expansion shorter than the text it expands is replaced by that text (`no_shorter`), so a round
never loses length to a model that summarises instead of expanding. The round's text is kept only
if it grew and passes the check (`response_check.check_response`).

Length is steered by the program: each round aims at `round_goal` words, max_tokens follows the
words still missing, the outline shown is bounded to fit the window, and a text past the target is
cut at a paragraph or sentence end.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from longform.agents.response_check import check_response, clean_chunk, drop_repeating_sentences

from longform.llm import ChatModel, Completion, GenParams, Message
from longform.prompting import render, render_messages
from longform.text import count_words, split_sentences, tail_words, trim_incomplete_tail, truncate_words

EXPAND_PROMPT = "selflengthen_expand"
CONTINUE_PROMPT = "selflengthen_continue"
SCHEMA = None  # prose

TOKENS_PER_WORD = {"en": 1.35, "zh": 1.6}
EXPAND_MIN_WORDS = 150  # room for an expansion of a short first half (2/3 of it is kept)
OUTLINE_CUT_MARK = {"en": "[…]", "zh": "[……]"}


@dataclass(frozen=True)
class ExtenderSettings:
    """Bounds and sampling of the extension rounds (every loop is bounded by these counters)."""

    max_rounds: int = 14  # extension rounds at most (kept or not); a run ends earlier at its target. The
    # embedded model grows a text ~1.3x a round, not the 2x asked: 8 rounds took 2 of 4 first responses
    # of ~400 words to only ~3,300 of 10,000 words (make eval), 14 reach 10,000 at 1.3x
    continue_mode: str = "rest"  # "rest": expand the rest of the text piece by piece; "whole": as the original
    rest_piece_words: int = 200  # "rest": words of the current text one continuation expands
    expand_factor: float = 3.0  # an expansion may run to this many times its outline's words
    growth: float = 2.0  # a round aims at growth x the current length (never past the target)
    min_gain_words: int = 100  # ... and at least this many more words
    keep_fraction: float = 2 / 3  # share of the first half's expansion kept (the original's 2/3)
    max_round_calls: int = 16  # continuation calls in one round at most (a round rewrites the whole text) ...
    round_words_per_call: int = 50  # ... or one per this many words of the round's goal, if more (a 135M
    # model adds ~50-150 new words a call once copied sentences are dropped)
    min_progress_words: int = 15  # a continuation adding fewer words is a stall
    max_stalls: int = 3  # stalls in a row tried again with a new seed before the round ends
    target_tolerance: float = 0.10  # the target counts as reached at (1 - tol) x target
    over_tolerance: float = 0.20  # a text over (1 + tol) x target is cut to the target
    max_call_tokens: int = 1024  # per call; a 135M model drifts past ~400 words
    min_call_tokens: int = 64
    outline_max_words: int = 2500  # the continuation's outline is cut to this (and to the window)
    continuation_tail_words: int = 40  # the round's text so far shown to a continuation: a 135M model
    # re-emits what it is shown, and with a 200-word tail it copied 4x more (dropped) sentences
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float | None = 1.1


# --- splitting and keeping (the original's rules) ----------------------------------------------------


def split_blocks(text: str) -> list[str]:
    """Paragraphs; lines when there are two paragraphs or fewer; sentences when it is one line."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    if len(blocks) <= 2:
        blocks = [b for b in text.strip().split("\n") if b.strip()]
    if len(blocks) <= 1:
        blocks = split_sentences(text.strip())
    return blocks


def first_half(text: str) -> str:
    """The part the round expands: the first len // 2 blocks (the first block when that is none)."""
    blocks = split_blocks(text)
    if not blocks:
        return ""
    return "\n\n".join(blocks[: max(1, len(blocks) // 2)])


def rest_pieces(text: str, max_words: int) -> list[str]:
    """The text after `first_half`, in order, as pieces of at most about `max_words` words (whole
    blocks; a longer block is split at sentence ends): what "rest" continuations expand one by one."""
    blocks = split_blocks(text)
    pieces: list[str] = []
    cur: list[str] = []
    for block in blocks[max(1, len(blocks) // 2):]:
        parts = [block] if count_words(block) <= max_words else _sentence_groups(block, max_words)
        for part in parts:
            if cur and count_words("\n\n".join([*cur, part])) > max_words:
                pieces.append("\n\n".join(cur))
                cur = []
            cur.append(part)
    if cur:
        pieces.append("\n\n".join(cur))
    return pieces


def _sentence_groups(block: str, max_words: int) -> list[str]:
    groups: list[str] = []
    cur = ""
    for sent in split_sentences(block):
        if cur and count_words(cur) + count_words(sent) > max_words:
            groups.append(cur)
            cur = ""
        cur = f"{cur} {sent}".strip()
    return groups + ([cur] if cur else [])


def keep_head(expansion: str, fraction: float = 2 / 3) -> str:
    """The first `fraction` of the expansion's paragraphs (of its sentences when it has fewer than 3)."""
    paras = [p.strip() for p in expansion.strip().split("\n\n") if p.strip()]
    if len(paras) >= 3:
        return "\n\n".join(paras[: int(len(paras) * fraction)])
    text = expansion.strip()
    sents = split_sentences(text)
    n = int(len(sents) * fraction)
    end = 0
    for sent in sents[:n]:
        end = text.find(sent, end) + len(sent)
    return text[:end].strip()


def outline_for(text: str, max_words: int, lang: str) -> str:
    """The current text as the continuation's outline; when longer than `max_words`, its last
    `max_words` words (the part a continuation has still to cover), marked as cut."""
    if count_words(text) <= max_words:
        return text.strip()
    return f"{OUTLINE_CUT_MARK.get(lang, '[…]')}\n\n{tail_words(text, max_words)}"


def outline_budget_words(n_ctx: int, lang: str, settings: ExtenderSettings) -> int:
    """Outline words that fit the window beside the prompt text, the tail and the completion."""
    tpw = TOKENS_PER_WORD.get(lang, 1.4)
    spare = n_ctx - settings.max_call_tokens - 400 - math.ceil(settings.continuation_tail_words * tpw)
    return max(50, min(settings.outline_max_words, int(spare / (tpw * 1.15))))


def join_text(a: str, b: str) -> str:
    """Append a chunk: a new paragraph when `a` ends a sentence, else go on in its paragraph."""
    a, b = a.rstrip(), b.strip()
    if not a:
        return b
    if not b:
        return a
    return f"{a}\n\n{b}" if a[-1] in ".!?。！？…\"”'’)）" else f"{a} {b}"


# --- prompts ---------------------------------------------------------------------------------------


def expand_messages(instruction: str, outline: str, lang: str) -> list[Message]:
    return render_messages(EXPAND_PROMPT, lang, instruction=instruction, outline=outline)


def continue_messages(instruction: str, outline: str, draft: str, words: int, lang: str,
                      settings: ExtenderSettings = ExtenderSettings()) -> list[Message]:
    """The expand prompt over the whole current text, then the round's text so far as the
    assistant's turn and a request to go on (just the expand prompt when nothing is kept yet)."""
    msgs = expand_messages(instruction, outline, lang)
    if draft.strip():
        msgs.append({"role": "assistant", "content": tail_words(draft, settings.continuation_tail_words)})
        msgs.append({"role": "user", "content": render(CONTINUE_PROMPT, "user", lang, words=max(1, words))})
    return msgs


def training_messages(instruction: str, initial: str, extended: str, lang: str, seed: int,
                      keep: float = 0.8) -> list[Message]:
    """An SFT example for the extender, as the original's `mk_ext_sft`: the expand prompt over the
    first response with about 1 - `keep` of its lines dropped -> the extended text."""
    rng = random.Random(seed)
    lines = [ln for ln in initial.split("\n") if ln.strip()]
    kept = [ln for ln in lines if rng.random() < keep] or lines[:1]
    return [*expand_messages(instruction, "\n\n".join(kept), lang), {"role": "assistant", "content": extended}]


# --- length control ---------------------------------------------------------------------------------


def reached(words: int, target: int, settings: ExtenderSettings) -> bool:
    return words >= target * (1 - settings.target_tolerance)


def round_goal(current_words: int, target: int, settings: ExtenderSettings) -> int:
    """Words a round aims at: growth x current (at least min_gain more), never past the target."""
    want = max(math.ceil(current_words * settings.growth), current_words + settings.min_gain_words)
    return max(current_words + 1, min(target, want))


def call_tokens(words: int, lang: str, settings: ExtenderSettings, tokens_per_word: float | None = None) -> int:
    tpw = tokens_per_word or TOKENS_PER_WORD.get(lang, 1.4)
    want = math.ceil(max(0, words) * tpw * 1.25) + 16
    return max(settings.min_call_tokens, min(settings.max_call_tokens, want))


def call_seed(base: int | None, round_: int, call: int) -> int | None:
    """A distinct deterministic seed per call of a run (None stays None)."""
    if base is None:
        return None
    return (base * 1_000_003 + 7_919 + round_ * 2_003 + call * 101) % (2**31 - 1)


def params(max_tokens: int, seed: int | None, settings: ExtenderSettings) -> GenParams:
    return GenParams(max_tokens=max_tokens, temperature=settings.temperature, top_p=settings.top_p, seed=seed,
                     repeat_penalty=settings.repeat_penalty)


async def expand_call(model: ChatModel, instruction: str, former: str, lang: str, *, seed: int | None,
                      settings: ExtenderSettings, tag: str) -> tuple[str, Completion]:
    """Expand the first half; returns (the kept head of the cleaned expansion, the completion)."""
    c = await model.complete(
        expand_messages(instruction, former, lang),
        params(expansion_tokens(former, lang, settings), seed, settings), tag=tag,
    )
    expansion = drop_repeating_sentences("", clean_chunk(c.text, lang), lang)
    return no_shorter(former, keep_head(expansion, settings.keep_fraction)), c


async def continue_call(model: ChatModel, instruction: str, outline: str, draft: str, words_needed: int,
                        lang: str, *, seed: int | None, settings: ExtenderSettings, tag: str) -> tuple[str, Completion]:
    """One continuation; returns (the chunk cleaned, without sentences repeating the draft, completion)."""
    c = await model.complete(
        continue_messages(instruction, outline, draft, words_needed, lang, settings),
        params(call_tokens(words_needed, lang, settings), seed, settings), tag=tag,
    )
    chunk = clean_chunk(c.text, lang)
    return drop_repeating_sentences(draft, chunk, lang), c


async def rest_call(model: ChatModel, instruction: str, piece: str, draft: str, lang: str, *, last: bool,
                    seed: int | None, settings: ExtenderSettings, tag: str) -> tuple[str, Completion]:
    """A "rest" continuation: expand the next piece of the current text (the expand prompt, the piece
    as the outline); all but the last piece keep their first two thirds, as the first half does.
    Returns (the chunk without sentences repeating the draft, the completion)."""
    c = await model.complete(expand_messages(instruction, piece, lang),
                             params(expansion_tokens(piece, lang, settings), seed, settings), tag=tag)
    chunk = clean_chunk(c.text, lang)
    if not last:
        chunk = keep_head(chunk, settings.keep_fraction)
    return drop_repeating_sentences(draft, no_shorter(piece, chunk), lang), c


def no_shorter(source: str, expansion: str) -> str:
    """The expansion, or the source itself when the expansion came out shorter: a weak model often
    summarises what it was asked to expand (a 135M model turned 609 words into 291), and a round
    built from such pieces ends shorter than it began and is rejected. Keeping the source makes a
    round's length never fall, so the rounds' gains add up."""
    return expansion if count_words(expansion) >= count_words(source) else source.strip()


def expansion_tokens(outline: str, lang: str, settings: ExtenderSettings) -> int:
    return call_tokens(max(math.ceil(settings.expand_factor * count_words(outline)), EXPAND_MIN_WORDS), lang, settings)


def round_call_limit(goal: int, settings: ExtenderSettings) -> int:
    """Continuation calls a round may make: a long round rewrites more text, so it may call more."""
    return max(settings.max_round_calls, math.ceil(goal / max(1, settings.round_words_per_call)))


def after_continue(draft: str, chunk: str, goal: int, calls: int, stalls: int,
                   settings: ExtenderSettings, limit: int | None = None, pieces_left: int | None = None) -> dict[str, Any]:
    """Pure control after one continuation: the round's new text, the stall count, whether the next
    call moves on to the next piece ("rest" mode; `pieces_left` = pieces after this one, None in
    "whole" mode), and whether to call again ("continue"; "retry" the same piece after a stall;
    "skip" to the next piece after `max_stalls` stalls) or end the round ("goal", "max_calls",
    "stalled", "outline_done")."""
    new = join_text(draft, chunk)
    added = count_words(new) - count_words(draft)
    stalled = added < settings.min_progress_words
    stalls = stalls + 1 if stalled else 0
    more = pieces_left is None or pieces_left > 0
    if count_words(new) >= goal:
        event = "goal"
    elif calls >= (limit or settings.max_round_calls):
        event = "max_calls"
    elif stalled and stalls <= settings.max_stalls:
        event = "retry"
    elif stalled:
        event = "skip" if pieces_left else "stalled"
    else:
        event = "continue" if more else "outline_done"
    advance = event in ("continue", "skip") and pieces_left is not None
    return {"draft": new, "added": added, "stalls": 0 if event == "skip" else stalls, "event": event,
            "advance": advance, "next": "continue" if event in ("continue", "retry", "skip") else "judge"}


def cut_to_target(text: str, target: int, settings: ExtenderSettings) -> tuple[str, bool]:
    """A text over (1 + over_tolerance) x target cut at a paragraph (else sentence) end to within
    [(1 - target_tolerance), (1 + target_tolerance)] x target; (text, whether it was cut)."""
    if count_words(text) <= target * (1 + settings.over_tolerance):
        return text, False
    hi = max(1, round(target * (1 + settings.target_tolerance)))
    lo = target * (1 - settings.target_tolerance)
    return trim_incomplete_tail(truncate_words(text, hi, min_keep=lo / hi)).strip(), True


def finish_round(current: str, draft: str, target: int, lang: str, settings: ExtenderSettings) -> dict[str, Any]:
    """The round's candidate (cut past the target, unfinished tail dropped) and whether it is kept:
    it must be longer than the current text and pass the check."""
    candidate, cut = cut_to_target(draft.strip(), target, settings)
    candidate = trim_incomplete_tail(candidate).strip()
    check = check_response(candidate, lang)
    before, after = count_words(current), count_words(candidate)
    reasons = ([] if after > before else ["not_longer"]) + check.reasons
    return {"text": candidate, "words": after, "kept": not reasons, "reasons": reasons, "cut": cut,
            "repeated": check.repeated}
