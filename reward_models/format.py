"""Format reward: repetition, truncated ending, structure. Every part is in [0, 1], 1 = no defect.

    ngram_repetition      1 while the share of repeated word n-grams (4 words; 8 characters in Chinese)
                          is <= 5%, falling linearly to 0 at 35% (the dataset filter's default cap)
    paragraph_repetition  1 - 2 x the share of paragraphs (5+ words) that repeat an earlier one
    loop                  0 when the text loops (`longform.text.has_degenerate_loop`), else 1
    ending                1 when the text ends with sentence-final punctuation (or a closing Markdown
                          table/fence), else 0: a cut-off answer
    structure             only when the instruction asks for headings, sections, chapters, a list or
                          steps (or N of them): the share of the asked units present (>= 2 when no
                          number is given); 1 when the instruction asks for none
    injection             0 when the response addresses its evaluator (reward_models.injection), else 1

    format_score = min(repetition parts) x (0.5 + 0.5 ending) x (0.5 + 0.5 structure) x injection

A looping text scores 0 whatever else it does; a cut-off ending or missing structure halves it.
"""

from __future__ import annotations

import re

from longform.reward_models.injection import strip_injections

from longform.text import (
    detect_language,
    ends_cleanly,
    has_degenerate_loop,
    ngram_repetition,
    split_paragraphs,
    words,
)

__all__ = ["format_score", "format_scores", "structure_request"]

REPETITION_FREE = 0.05
REPETITION_ZERO = 0.35

_ASKS_STRUCTURE = re.compile(
    r"\b(?:headings?|headers?|subheadings?|sections|chapters|numbered|bullet(?:ed)?\s+(?:points?|list)|"
    r"(?:in|as)\s+(?:a\s+)?(?:numbered\s+|bulleted\s+)?list|step[-\s]by[-\s]step|outline|table\s+of\s+contents)\b|"
    r"小标题|标题|章节|分章|分节|分点|列出|条目|步骤|目录",
    re.IGNORECASE,
)
_COUNT_EN = re.compile(
    r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)\s+(?:\w+\s+){0,2}?"
    r"(?:sections?|chapters?|parts|steps|tips|ways|reasons|points|headings|items|paragraphs|stages|lessons|ideas)\b",
    re.IGNORECASE)
_COUNT_ZH = re.compile(r"([一二两三四五六七八九十\d]{1,3})\s*(?:个)?(?:章|节|部分|点|条|步|段|个方面|大方面|要点)")
_EN_NUM = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])} | {"fifteen": 15, "twenty": 20}
_ZH_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_UNIT_LINE = re.compile(
    r"^\s*(?:#{1,6}\s+\S|\d{1,3}[.)、]\s*\S|[-*+•]\s+\S|\*\*[^*\n]{2,80}\*\*\s*[:：]?\s*$|"
    r"第[一二三四五六七八九十百\d]+[章节部分步条]|[一二三四五六七八九十]{1,3}、|(?:chapter|part|section|step)\s+\w+)",
    re.IGNORECASE)


def _zh_count(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if len(s) == 2 and s[0] == "十":
        return 10 + _ZH_NUM.get(s[1], 0)
    if len(s) == 2 and s[1] == "十":
        return _ZH_NUM.get(s[0], 0) * 10
    if len(s) == 3 and s[1] == "十":
        return _ZH_NUM.get(s[0], 0) * 10 + _ZH_NUM.get(s[2], 0)
    return _ZH_NUM.get(s)


def structure_request(instruction: str) -> tuple[bool, int | None]:
    """(does the instruction ask for structured units, how many if it says)."""
    instruction = instruction or ""
    m = _COUNT_EN.search(instruction)
    if m:
        g = m.group(1).lower()
        n = int(g) if g.isdigit() else _EN_NUM.get(g)
        if n:
            return True, n
    m = _COUNT_ZH.search(instruction)
    if m:
        n = _zh_count(m.group(1))
        if n:
            return True, n
    return (True, None) if _ASKS_STRUCTURE.search(instruction) else (False, None)


def _units(text: str) -> int:
    return sum(1 for line in text.splitlines() if _UNIT_LINE.match(line))


def _paragraph_repetition(text: str) -> float:
    paras = [" ".join(w.lower() for w in words(p)) for p in split_paragraphs(text)]
    paras = [p for p in paras if len(p.split()) >= 5 or len(p) >= 20]
    if not paras:
        return 0.0
    seen: set[str] = set()
    dup = 0
    for p in paras:
        if p in seen:
            dup += 1
        seen.add(p)
    return dup / len(paras)


def _clean_ending(text: str) -> bool:
    stripped = text.rstrip()
    if ends_cleanly(stripped):
        return True
    last = stripped.rsplit("\n", 1)[-1].strip()
    return last.startswith("|") and last.endswith("|") or last in ("```", "~~~")


def format_scores(instruction: str, response: str) -> dict[str, float]:
    """Every format part in [0, 1] (1 = no defect) and their `format_score`. The parts other than
    `injection` are measured on the response without its injected spans."""
    text, spans = strip_injections(response or "")
    n = 8 if detect_language(text) == "zh" else 4
    rep = ngram_repetition(text, n)
    ngram = min(1.0, max(0.0, 1.0 - (rep - REPETITION_FREE) / (REPETITION_ZERO - REPETITION_FREE)))
    para = min(1.0, max(0.0, 1.0 - 2.0 * _paragraph_repetition(text)))
    loop = 0.0 if text.strip() and has_degenerate_loop(text) else 1.0
    ending = 1.0 if text.strip() and _clean_ending(text) else 0.0
    asked, count = structure_request(instruction)
    units = _units(text)
    if not asked:
        structure = 1.0
    elif count:
        structure = min(1.0, units / count)
    else:
        structure = 1.0 if units >= 2 else 0.5 * units
    injection = 0.0 if spans else 1.0
    parts = {
        "ngram_repetition": round(ngram, 4), "paragraph_repetition": round(para, 4), "loop": loop,
        "ending": ending, "structure": round(structure, 4), "injection": injection,
    }
    if not text.strip():
        parts = dict.fromkeys(parts, 0.0)
    parts["format_score"] = format_score_from(parts)
    return parts


def format_score_from(parts: dict[str, float]) -> float:
    repetition = min(parts["ngram_repetition"], parts["paragraph_repetition"], parts["loop"])
    score = repetition * (0.5 + 0.5 * parts["ending"]) * (0.5 + 0.5 * parts["structure"]) * parts["injection"]
    return round(score, 6)


def format_score(instruction: str, response: str) -> float:
    """The format reward in [0, 1]."""
    return format_scores(instruction, response)["format_score"]
