"""Text measurement: the one way words are counted, split, compared and cut in longform.

Words follow the LongBench-Write rule: every CJK character is one word, and every
latin word token (letters and digits, with inner apostrophes, hyphens and digit
separators such as ``3.5`` or ``10,000``) is one word. Punctuation and Markdown
symbols count zero.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter

__all__ = [
    "count_words",
    "detect_language",
    "ends_cleanly",
    "has_degenerate_loop",
    "is_cjk_char",
    "ngram_repetition",
    "split_paragraphs",
    "split_sentences",
    "tail_words",
    "trim_incomplete_tail",
    "truncate_words",
    "words",
]

_CJK_CLASS = (
    "\u3040-\u309f"  # Hiragana
    "\u30a0-\u30fa\u30fc-\u30ff"  # Katakana, without the middle dot U+30FB
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK Unified Ideographs Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
    "\U00020000-\U0002fa1f"  # Extensions B-F and the compatibility supplement
    "\U00030000-\U0003134f"  # Extension G
)
_LATIN_CLASS = (
    "A-Za-z0-9"
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # Latin-1 letters and Latin Extended-A/B
    "\u0300-\u036f"  # combining diacritics
    "\u0386\u0388-\u03ff"  # Greek
    "\u0400-\u04ff"  # Cyrillic
    "\u1e00-\u1eff"  # Latin Extended Additional
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"  # fullwidth digits and letters
)
_CJK_CHAR = f"[{_CJK_CLASS}]"
_LATIN_WORD = rf"[{_LATIN_CLASS}]+(?:(?:['’\-\u2010]|(?<=\d)[.,:](?=\d))[{_LATIN_CLASS}]+)*"

_CJK_RE = re.compile(_CJK_CHAR)
_LATIN_RE = re.compile(_LATIN_WORD)
_TOKEN_RE = re.compile(f"{_CJK_CHAR}|{_LATIN_WORD}")

_CLOSERS = "\"'”’」』）)】》\\]"
_FULLWIDTH_ENDS = "。！？"
_SENTENCE_END_RE = re.compile(f"(?:[{_FULLWIDTH_ENDS}；]+|[.!?…]+)[{_CLOSERS}]*")
_CLEAN_END_RE = re.compile(f"[.!?…{_FULLWIDTH_ENDS}][{_CLOSERS}*_]*$")
_PARAGRAPH_BREAK_RE = re.compile(r"\n[^\S\n]*\n\s*")
_ABBREVIATION_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)$")
_NEXT_CHAR_RE = re.compile(r"\s*(\S)")
_MAX_ABBREVIATION_LEN = 12
_HEADING_RE = re.compile(r"^\s*#{1,6}\s")
_MARKDOWN_LINE_RE = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\||```|~~~|---+\s*$|\*\*\*+\s*$)")

_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "rev", "fr",
        "gen", "col", "capt", "lt", "sgt", "gov", "sen", "rep", "hon", "pres",
        "vs", "e.g", "i.e", "cf", "viz", "fig", "figs", "vol", "vols", "pp",
        "approx", "ca", "al", "dept", "jan", "feb", "mar", "apr", "jun", "jul",
        "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip


def words(text: str) -> list[str]:
    """The word tokens of ``text``: each CJK character and each latin word, in order."""
    return _TOKEN_RE.findall(text)


def count_words(text: str) -> int:
    """Number of words by the LongBench-Write rule (CJK characters plus latin word tokens)."""
    return sum(1 for _ in _TOKEN_RE.finditer(text))


def is_cjk_char(ch: str) -> bool:
    """True for a single CJK ideograph, kana or Hangul syllable."""
    return len(ch) == 1 and _CJK_RE.match(ch) is not None


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters are at least 30% of all words, else ``"en"``."""
    cjk = len(_CJK_RE.findall(text))
    latin = len(_LATIN_RE.findall(text))
    if cjk + latin == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= 0.3 else "en"


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, stripped, empties dropped."""
    return [p.strip() for p in _PARAGRAPH_BREAK_RE.split(text) if p.strip()]


def _paragraph_ends(text: str) -> list[int]:
    return [m.start() for m in _PARAGRAPH_BREAK_RE.finditer(text)]


def _is_english_boundary(text: str, start: int, end: int) -> bool:
    if end < len(text) and not (text[end].isspace() or is_cjk_char(text[end])):
        return False
    following = _NEXT_CHAR_RE.match(text, end)
    if following is not None and following.group(1).islower():
        return False
    if text[start] != "." or text[start:end].startswith(".."):
        return True
    before = _ABBREVIATION_RE.search(text, max(0, start - _MAX_ABBREVIATION_LEN), start)
    if before is None:
        return True
    token = before.group(1)
    if len(token) == 1 and token.isupper():
        return False
    return token.lower() not in _ABBREVIATIONS


def _is_markdown_line(line: str) -> bool:
    return _MARKDOWN_LINE_RE.match(line) is not None


def _line_breaks(text: str) -> list[int]:
    """Newlines that end a block: blank lines and lines next to a Markdown block line."""
    lines = text.split("\n")
    breaks: list[int] = []
    pos = 0
    for before, after in itertools.pairwise(lines):
        pos += len(before)
        if not before.strip() or not after.strip() or _is_markdown_line(before) or _is_markdown_line(after):
            breaks.append(pos)
        pos += 1
    return breaks


def _sentence_ends(text: str, split_semicolons: bool) -> list[int]:
    ends: set[int] = set(_line_breaks(text))
    for m in _SENTENCE_END_RE.finditer(text):
        first = text[m.start()]
        if first == "；":
            if split_semicolons:
                ends.add(m.end())
        elif first in _FULLWIDTH_ENDS or _is_english_boundary(text, m.start(), m.end()):
            ends.add(m.end())
    return sorted(ends)


def _sentence_spans(text: str, split_semicolons: bool = False) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for end in [*_sentence_ends(text, split_semicolons), len(text)]:
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
        start = end
    return spans


def split_sentences(text: str, split_semicolons: bool = False) -> list[str]:
    """Sentences in English and Chinese; terminators and closing quotes stay with their sentence.

    As in rendered Markdown, a single line break inside a paragraph does not end a sentence;
    blank lines do, and so do the breaks around headings, list items, quotes, tables and fences.
    """
    return [text[s:e] for s, e in _sentence_spans(text, split_semicolons)]


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _lower_words(text: str) -> list[str]:
    return [w.lower() for w in words(text)]


def ngram_repetition(text: str, n: int = 4) -> float:
    """Fraction of word n-grams that repeat an earlier n-gram; 0.0 with fewer than ``n`` words."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    grams = _ngrams(_lower_words(text), n)
    if not grams:
        return 0.0
    return (len(grams) - len(set(grams))) / len(grams)


def _max_window_repetition(grams: list[tuple[str, ...]], window: int) -> float:
    """Highest repeated-n-gram fraction over every run of ``window`` consecutive n-grams."""
    window = max(1, min(window, len(grams)))
    counts = Counter(grams[:window])
    best = (window - len(counts)) / window
    for i in range(window, len(grams)):
        old = grams[i - window]
        counts[old] -= 1
        if counts[old] == 0:
            del counts[old]
        counts[grams[i]] += 1
        best = max(best, (window - len(counts)) / window)
    return best


def _has_repeated_block(
    sentences: list[tuple[str, ...]], min_tokens: int, times: int, max_period: int
) -> bool:
    """True when a block of 1..max_period sentences occurs ``times`` times in a row."""
    for period in range(1, max_period + 1):
        run = 0
        for i in range(len(sentences) - period):
            run = run + 1 if sentences[i] == sentences[i + period] else 0
            if run == (times - 1) * period:
                start = i - run + 1
                if sum(len(s) for s in sentences[start : start + period]) >= min_tokens:
                    return True
    return False


def has_degenerate_loop(text: str, window_words: int = 200, threshold: float = 0.5, n: int = 4) -> bool:
    """True when the text loops: the whole text or some window of ~``window_words`` words has a
    repeated-n-gram fraction above ``threshold``, or a sentence (or block of up to 20 sentences)
    of 5+ words occurs 3+ times in a row."""
    grams = _ngrams(_lower_words(text), n)
    if grams and (len(grams) - len(set(grams))) / len(grams) > threshold:
        return True
    if grams and _max_window_repetition(grams, window_words - n + 1) > threshold:
        return True
    sentences = [tuple(_lower_words(s)) for s in split_sentences(text)]
    sentences = [s for s in sentences if s]
    return _has_repeated_block(sentences, min_tokens=5, times=3, max_period=20)


def _ends_with_heading(text: str, end: int) -> bool:
    line = text[text.rfind("\n", 0, end) + 1 : end]
    return _HEADING_RE.match(line) is not None


def truncate_words(text: str, max_words: int, min_keep: float = 0.8) -> str:
    """Cut ``text`` to at most ``max_words`` words, ending at a paragraph, else a sentence, else a
    word boundary; a boundary is used only if it keeps at least ``min_keep * max_words`` words."""
    if max_words < 0:
        raise ValueError(f"max_words must be >= 0, got {max_words}")
    matches = list(_TOKEN_RE.finditer(text))
    if len(matches) <= max_words:
        return text
    if max_words == 0:
        return ""
    limit = matches[max_words].start()
    ends = [m.end() for m in matches]
    floor = min_keep * max_words
    for boundaries in (_paragraph_ends(text), [e for _, e in _sentence_spans(text)]):
        fitting = [b for b in boundaries if b <= limit and not _ends_with_heading(text, b)]
        if fitting and bisect.bisect_right(ends, fitting[-1]) >= floor:
            return text[: fitting[-1]].rstrip()
    return text[: ends[max_words - 1]].rstrip()


def cut_at_nearest_sentence_end(text: str, words: int) -> str:
    """``text`` up to the end of the complete sentence whose word count is nearest ``words`` (the
    shorter on a tie); ``text`` itself when no sentence ends cleanly. Unlike cutting at ``words``
    then dropping the unfinished sentence, a long last sentence cannot take the text far below
    ``words``: the cut may end past it when that is nearer."""
    stripped = text.rstrip()
    ends = [e for s, e in _sentence_spans(stripped) if ends_cleanly(stripped[s:e])]
    if not ends:
        return text
    best = min(ends, key=lambda e: (abs(count_words(stripped[:e]) - words), e))
    return stripped[:best]


def ends_cleanly(text: str) -> bool:
    """True when text ends with sentence-final punctuation, optionally followed by closing quotes,
    brackets or Markdown emphasis."""
    return _CLEAN_END_RE.search(text.rstrip()) is not None


def trim_incomplete_tail(text: str) -> str:
    """Drop a trailing unfinished sentence, if at least one complete sentence precedes it."""
    stripped = text.rstrip()
    if not stripped or ends_cleanly(stripped) or _is_markdown_line(stripped.rsplit("\n", 1)[-1]):
        return text
    spans = _sentence_spans(stripped)
    if not any(ends_cleanly(stripped[s:e]) for s, e in spans[:-1]):
        return text
    return stripped[: spans[-1][0]].rstrip()


def tail_words(text: str, n: int) -> str:
    """The last ~``n`` words of ``text`` (never more), starting at a sentence start when one keeps
    at least half of them, else at a word."""
    if n <= 0:
        return ""
    starts = [m.start() for m in _TOKEN_RE.finditer(text)]
    if len(starts) <= n:
        return text.strip()
    cut = starts[-n]
    for s, _ in _sentence_spans(text):
        if s >= cut:
            if len(starts) - bisect.bisect_left(starts, s) >= n / 2:
                cut = s
            break
    return text[cut:].strip()
