"""Self-Lengthen's acceptance check for a response, and the cuts that keep a text passing it.

A response passes when (as in QwenLM/Self-Lengthen `utils.check_response`):
- it ends with sentence-final punctuation (closing quotes and brackets allowed after it);
- no long n-gram occurs twice: 10 whitespace tokens in English; in Chinese 13 tokens, where every
  non-ASCII character is a token and a run of ASCII characters is one;
- its first two and last three lines hold no meta text about the writing itself ("Here is the
  revised version:", "I hope this expanded response...", "以下是扩写后的内容").

The original checks single words ("revised", "version", "response", ...) in those lines; we check
phrases, so an article about software versions is not rejected for saying "version".

`clean_chunk` and `drop_repeating_sentences` are the program's side: lines that talk about the task
(or drift into another language) are dropped, and so are sentences that would repeat a long n-gram,
so a round fails the check only when what is left is still bad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from longform.text import count_words, detect_language, ends_cleanly, split_sentences

NGRAM_WORDS_EN = 10
NGRAM_TOKENS_ZH = 13
META_HEAD_LINES = 2
META_TAIL_LINES = 3

_META_EN = re.compile(
    r"\b(?:(?:revised|rewritten|expanded|enriched|enhanced|improved|polished|updated|extended)\s+"
    r"(?:version|text|response|content|outline|draft|essay|article|story)"
    r"|here(?:\s+is|'s|\s+are)\s+(?:the|an?|my|your)\b[^.\n]{0,40}\b"
    r"(?:version|text|response|content|outline|draft|continuation)"
    r"|original\s+(?:outline|response|text|draft)"
    r"|(?:the\s+)?(?:above|following)\s+(?:response|outline|revision)"
    r"|I(?:'ve|\s+have)\s+(?:expanded|enriched|rewritten|revised|polished)"
    r"|I(?:'d|\s+would|'ll|\s+will)\s+(?:love\s+to\s+|be\s+happy\s+to\s+)?(?:continue|expand|enrich|rewrite|revise)"
    r"|i\s+hope\s+(?:this|these)\s+(?:helps|expanded|enriched|revised|text|response|version)"
    r"|let\s+me\s+know\b|feel\s+free\s+to\s+ask|best\s+regards"
    r"|word\s+count\s*:|\(\s*\d[\d,]*\s+words?\s*\))",
    re.IGNORECASE,
)
_META_ZH = re.compile(
    r"(?:修改后|修订后|修订版|改写后|扩写后|扩展后|润色后|丰富后|以下是|下面是|原始大纲|原大纲|原文大纲|字数[:：]"
    r"|希望(?:这|以上|本)[^。\n]{0,10}(?:对你|对您|能帮))"
)


def is_meta(text: str) -> bool:
    """True when `text` talks about the writing itself rather than being part of it."""
    return _META_EN.search(text) is not None or _META_ZH.search(text) is not None


@dataclass
class CheckResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    repeated: str = ""  # the first repeated n-gram, when there is one

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "reasons": list(self.reasons), "repeated": self.repeated}


def _tokens_en(text: str) -> list[tuple[str, int]]:
    return [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]


def _tokens_zh(text: str) -> list[tuple[str, int]]:
    """Self-Lengthen's Chinese tokens: each non-ASCII character; runs of ASCII characters joined."""
    out: list[tuple[str, int]] = []
    prev_ascii = False
    for i, ch in enumerate(text):
        is_ascii = ch.isascii()
        if is_ascii and prev_ascii and out:
            tok, start = out[-1]
            out[-1] = (tok + ch, start)
        else:
            out.append((ch, i))
        prev_ascii = is_ascii
    return out


def tokens(text: str, lang: str) -> list[tuple[str, int]]:
    """(token, start offset) pairs used by the n-gram check for `lang`."""
    return _tokens_zh(text) if lang == "zh" else _tokens_en(text)


def ngram_size(lang: str) -> int:
    return NGRAM_TOKENS_ZH if lang == "zh" else NGRAM_WORDS_EN


def first_repeat(text: str, lang: str, n: int | None = None, after: int = 0) -> tuple[int, str] | None:
    """(start offset, n-gram) of the first n-gram that repeats an earlier one, counting only repeats
    that reach character `after` or beyond (their last token starts there); None when none does."""
    n = n or ngram_size(lang)
    toks = tokens(text, lang)
    seen: set[tuple[str, ...]] = set()
    for i in range(len(toks) - n + 1):
        gram = tuple(t for t, _ in toks[i : i + n])
        if gram in seen and toks[i + n - 1][1] >= after:
            sep = "" if lang == "zh" else " "
            return toks[i][1], sep.join(gram)
        seen.add(gram)
    return None


def meta_lines(text: str) -> list[str]:
    """The lines among the first two and last three that talk about the writing itself."""
    lines = [ln for ln in text.strip().split("\n") if ln.strip()]
    picked = lines[:META_HEAD_LINES] + lines[max(META_HEAD_LINES, len(lines) - META_TAIL_LINES):]
    return [ln for ln in picked if is_meta(ln)]


def check_response(text: str, lang: str) -> CheckResult:
    """Self-Lengthen's check (see the module doc)."""
    reasons: list[str] = []
    stripped = text.strip()
    if not stripped:
        return CheckResult(False, ["empty"])
    if not ends_cleanly(stripped):
        reasons.append("unfinished_ending")
    rep = first_repeat(stripped, lang)
    if rep is not None:
        reasons.append("repeated_ngram")
    if meta_lines(stripped):
        reasons.append("meta_text")
    return CheckResult(not reasons, reasons, rep[1] if rep else "")


def strip_meta_lines(text: str) -> str:
    """Drop whole meta lines ("Here is the expanded version:", "I hope this helps!") at the start and
    the end, and Markdown fences around the whole text."""
    lines = text.strip().split("\n")

    def drop(line: str) -> bool:
        s = line.strip()
        return bool(s) and (s.startswith("```") or (len(s) < 200 and is_meta(s)))

    while lines and (not lines[0].strip() or drop(lines[0])):
        lines.pop(0)
    while lines and (not lines[-1].strip() or drop(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()


def clean_chunk(text: str, lang: str) -> str:
    """A model's chunk as text to keep: fences and every line (a paragraph, when the model breaks
    paragraphs with one newline) that talks about the task ("I'd love to continue the enriched
    text...") or is in another language are dropped. A weak model comments on the task and drifts
    between languages; those lines are no part of the text and would make the round fail the check."""
    lines = strip_meta_lines(text).split("\n")
    kept = [ln for ln in lines
            if not (ln.strip() and (is_meta(ln) or (count_words(ln) >= 8 and detect_language(ln) != lang)))]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def cut_before_repeat(prefix: str, chunk: str, lang: str, joiner: str = "\n\n") -> str:
    """The head of `chunk` that adds no repeated n-gram to `prefix + joiner + chunk`: cut at the start
    of the sentence where the first new repeat begins (the whole chunk when there is none)."""
    if not chunk:
        return chunk
    head = f"{prefix}{joiner}" if prefix else ""
    rep = first_repeat(head + chunk, lang, after=len(head))
    if rep is None:
        return chunk
    cut_at = max(0, rep[0] - len(head))
    kept = ""
    pos = 0
    for sent in split_sentences(chunk):
        start = chunk.find(sent, pos)
        if start < 0 or start + len(sent) > cut_at:
            break
        pos = start + len(sent)
        kept = chunk[:pos]
    return kept.rstrip()


def drop_repeating_sentences(prefix: str, chunk: str, lang: str) -> str:
    """`chunk` without the sentences that would repeat a long n-gram of `prefix` or of the chunk's
    earlier kept sentences (n-grams across sentence joins count too). A weak model copies phrases
    from the outline it is shown; dropping the copied sentences keeps the new ones. Falls back to
    `cut_before_repeat` if joining what is left still makes a repeat."""
    if not chunk.strip():
        return chunk.strip()
    n = ngram_size(lang)
    seen: set[tuple[str, ...]] = set()
    stream: list[str] = [t for t, _ in tokens(prefix, lang)] if prefix else []
    for i in range(len(stream) - n + 1):
        seen.add(tuple(stream[i : i + n]))
    out_lines: list[str] = []
    for line in chunk.strip().split("\n"):
        kept_sents: list[str] = []
        for sent in split_sentences(line) if line.strip() else []:
            toks = [t for t, _ in tokens(sent, lang)]
            ctx = stream[-(n - 1):] if n > 1 else []
            joined = ctx + toks
            grams = [tuple(joined[i : i + n]) for i in range(len(joined) - n + 1)]
            if any(g in seen for g in grams) or len(set(grams)) < len(grams):
                continue
            seen.update(grams)
            stream.extend(toks)
            kept_sents.append(sent)
        if kept_sents or not line.strip():
            out_lines.append(("" if lang == "zh" else " ").join(kept_sents))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out_lines)).strip()
    head = f"{prefix.rstrip()}\n\n" if prefix.strip() else ""
    if first_repeat(head + text, lang, after=len(head)) is not None:
        text = cut_before_repeat(prefix.rstrip(), text, lang)
    return text
