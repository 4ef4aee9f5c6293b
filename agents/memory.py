"""Memory of what is written: a running summary of finished sections plus the tail of the last one.

This replaces AgentWrite's "paste everything written so far": the memory has a fixed size whatever
the manuscript's length, so every section call's prompt stays flat and fits an 8k window.

The summary is extractive (no model call): each finished section leaves a digest, its opening
sentence and its closing sentence, and the summary keeps the digests of the last `keep_sections`
sections, each cut to `digest_words`. An abstractive summary would cost one more call per section
(a prompt of the whole section plus the decoded summary), which on two CPU cores is several seconds
a section, and a 135M model's summaries tend to restate the plan; the extractive digest is free and
exact. The plan (in every call's fixed prefix) already names every section, so the digest only needs
to say how the recent parts began and ended.
"""

from __future__ import annotations

from typing import Any

from longform.text import count_words, split_sentences, tail_words, truncate_words

NAME = "memory"

# Every section call reads the memory (prompt tokens) and decodes with it in its context (on a CPU each
# context token slows every decoded token); measured at 10k words on the embedded model, 3 digests of
# 40 words and a 120-word tail cost ~0.07 of the words/s ratio over 2 digests of 30 and an 80-word tail.
DEFAULT_KEEP_SECTIONS = 2
DEFAULT_DIGEST_WORDS = 30
DEFAULT_TAIL_WORDS = 60


def empty_memory() -> dict[str, Any]:
    return {"digests": [], "tail": ""}


def digest(title: str, text: str, digest_words: int = DEFAULT_DIGEST_WORDS) -> dict[str, str]:
    """What a finished section leaves: its title, first sentence and (if different) last sentence,
    each cut to half of `digest_words`."""
    sentences = [s.strip() for s in split_sentences(text) if s.strip()]
    if not sentences:
        return {"title": title, "first": "", "last": ""}
    first = sentences[0]
    last = sentences[-1] if len(sentences) > 1 else ""
    half = max(8, digest_words // 2)
    first = truncate_words(first, half) if count_words(first) > half else first
    if last:
        last = truncate_words(last, half) if count_words(last) > half else last
    return {"title": title, "first": first, "last": last}


def digest_line(d: dict[str, str], with_last: bool = True) -> str:
    """"title: first … last" (or "title: first", or the title alone)."""
    body = d["first"] if not (with_last and d["last"]) else f"{d['first']} … {d['last']}"
    return f"{d['title']}: {body}" if body else d["title"]


def remember(
    memory: dict[str, Any],
    title: str,
    text: str,
    *,
    keep_sections: int = DEFAULT_KEEP_SECTIONS,
    digest_words: int = DEFAULT_DIGEST_WORDS,
    tail_len: int = DEFAULT_TAIL_WORDS,
) -> dict[str, Any]:
    """The memory after a section is finished (a new dict; the old one is not changed)."""
    digests = list(memory.get("digests", [])) + [digest(title, text, digest_words)]
    return {"digests": digests[-keep_sections:], "tail": tail_words(text, tail_len) if text.strip() else memory.get("tail", "")}


def summary_text(memory: dict[str, Any]) -> str:
    """The digests as prompt lines. The newest one goes without its last sentence when the tail is
    shown: the tail ends with that sentence, and each repeated prompt token is read on every call."""
    digests = memory.get("digests", [])
    tail = bool(memory.get("tail"))
    return "\n".join(f"- {digest_line(d, with_last=not (tail and i == len(digests) - 1))}" for i, d in enumerate(digests))
