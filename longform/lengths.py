"""The ONE length parser: the length an instruction states, in English or Chinese, as an interval.

    >>> parse_length("Write at least 2,000 words on tea.")
    LengthSpec(kind='at_least', length=2000, lo=2000.0, hi=3000.0, target_words=2500)
    >>> parse_length("请写一篇两千字左右的散文。").kind
    'about'
    >>> parse_length("Write a short story.") is None      # no stated length: None, never a guess
    True

Kinds and their intervals are LonGen's (`longform.scores.longen_interval`): about L = [0.8L, 1.2L],
at_least L = [L, 1.5L], at_most L = [0.5L, L], range = [A, B] as stated. `target_words` is what a
writer should aim at: the middle of the interval (for "at least N" that is 1.25N, not N).

Numbers may be digits with separators ("3,000"), "3k", "1.5万", Chinese numerals ("两千", "三千五百",
"一万"), "三四千字" (3000-4000) or English number words ("two thousand", "fifteen hundred").
The kind comes from the cue nearest the number in the same clause ("at least", "no more than",
"between A and B", "A-B words", "exceeds", "under", "约", "左右", "不少于", "不超过", "以内",
"以上", "到/至" ...). Per-unit lengths ("300 words each", "每段200字") are not the total and are
skipped; "characters", "tokens" and "pages" are not words and state no length. When an
instruction states several lengths, the first one counts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from longform.scores import longen_interval

__all__ = ["KINDS", "LengthSpec", "make_spec", "parse_length", "spec_from_target"]

KINDS: tuple[str, ...] = ("about", "range", "at_least", "at_most")
_LONGEN = {"about": "about", "at_least": "above", "at_most": "below"}


@dataclass(frozen=True)
class LengthSpec:
    """A stated length: its kind, L (for a range: the midpoint), the allowed interval, the aim."""

    kind: str
    length: int
    lo: float
    hi: float
    target_words: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LengthSpec:
        if d.get("kind") == "range":
            return make_spec("range", lo=int(d["lo"]), hi=int(d["hi"]))
        return make_spec(str(d["kind"]), int(d["length"]))

    def describe(self) -> str:
        if self.kind == "range":
            return f"between {int(self.lo):,} and {int(self.hi):,} words"
        words = {"about": "about", "at_least": "at least", "at_most": "at most"}[self.kind]
        return f"{words} {self.length:,} words [{self.lo:,.0f}, {self.hi:,.0f}]"


def make_spec(kind: str, length: int = 0, lo: float | None = None, hi: float | None = None) -> LengthSpec:
    """The spec of a kind and length (or, for "range", of lo and hi), with LonGen's interval."""
    if kind == "range":
        if lo is None or hi is None:
            raise ValueError("a range needs lo and hi")
        a, b = longen_interval("range", 0, (int(lo), int(hi)))
        return LengthSpec("range", round((a + b) / 2), a, b, round((a + b) / 2))
    if kind not in _LONGEN:
        raise ValueError(f"unknown length kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    a, b = longen_interval(_LONGEN[kind], int(length))
    return LengthSpec(kind, int(length), a, b, round((a + b) / 2))


def spec_from_target(target: Any) -> LengthSpec:
    """A spec from what a record or a caller gives: a LengthSpec, a dict, N words (about N), or (lo, hi)."""
    if isinstance(target, LengthSpec):
        return target
    if isinstance(target, dict):
        return LengthSpec.from_dict(target)
    if isinstance(target, (tuple, list)) and len(target) == 2:
        return make_spec("range", lo=target[0], hi=target[1])
    if isinstance(target, (int, float)) and not isinstance(target, bool) and target > 0:
        return make_spec("about", int(target))
    raise ValueError(f"not a length target: {target!r} (give N words, (lo, hi) or a LengthSpec)")


# --- numbers ------------------------------------------------------------------------------------

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_RUN = re.compile(r"(?<![\d.])[零〇一二两俩三四五六七八九十百千万]+")
_ZH_UNIT_FOLLOWS = re.compile(r"\s*(?:多|余|来)?\s*(?:个)?(?:汉)?[字词]|\s*(?:到|至|-|–|—|~|～)")


def _zh_number(run: str) -> int | None:
    """Value of a Chinese numeral such as 两千, 三千五百, 一万二千, 十五, 二〇〇〇; None if malformed."""
    if all(c in _ZH_DIGITS for c in run) and len(run) > 1:  # digit by digit: 二〇〇〇
        return int("".join(str(_ZH_DIGITS[c]) for c in run))
    total, section, digit = 0, 0, None
    for c in run:
        if c in _ZH_DIGITS:
            if digit is not None and _ZH_DIGITS[c] != 0:
                return None
            digit = _ZH_DIGITS[c]
        elif c in _ZH_UNITS:
            section += (1 if digit is None else digit) * _ZH_UNITS[c]
            digit = None
        elif c == "万":
            total += (section + (digit or 0)) * 10000 or 10000
            section, digit = 0, None
    value = total + section + (digit or 0)
    return value or None


def _zh_numerals_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        run = m.group()
        if m.start() > 0 and text[m.start() - 1] in "几数上成好":  # 几千字, 数千字: "a few thousand" is no number
            return run
        follows = _ZH_UNIT_FOLLOWS.match(text, m.end())
        if follows is None and not any(c in "百千万" for c in run):
            return run
        if len(run) >= 2 and run[0] in _ZH_DIGITS and run[1] in _ZH_DIGITS and run[0] != run[1] and len(run) <= 3 \
                and (len(run) == 2 or run[2] in "十百千万") and _ZH_DIGITS[run[1]] == _ZH_DIGITS[run[0]] + 1:
            # 三四千 = 3000-4000, 五六百 = 500-600
            unit = run[2:] or ""
            a, b = _zh_number(run[0] + unit), _zh_number(run[1] + unit)
            if a and b:
                return f"{a}-{b}"
        value = _zh_number(run)
        return str(value) if value else run

    return _ZH_RUN.sub(repl, text)


_EN_SMALL = {w: i for i, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_EN_WORD = "|".join(sorted([*_EN_SMALL, *_EN_TENS, "hundred", "thousand", "a", "an", "and"], key=len, reverse=True))
_EN_RUN = re.compile(rf"\b(?:{_EN_WORD})(?:[\s-]+(?:{_EN_WORD}))*\b", re.IGNORECASE)


def _en_number(tokens: list[str]) -> int | None:
    total, current, seen = 0, 0, False
    for t in tokens:
        if t in ("a", "an"):
            current = max(current, 1)
        elif t == "and":
            continue
        elif t in _EN_SMALL:
            current += _EN_SMALL[t]
            seen = True
        elif t in _EN_TENS:
            current += _EN_TENS[t]
            seen = True
        elif t == "hundred":
            current = max(current, 1) * 100
            seen = True
        elif t == "thousand":
            total += max(current, 1) * 1000
            current, seen = 0, True
    value = total + current
    return value if seen and value > 0 else None


def _en_numbers_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 12) : m.start()].lower().split()
        if before and before[-1] in ("few", "several", "many", "some", "of", "couple", "hundreds", "thousands"):
            return m.group()  # "a few hundred words" states no number
        tokens = [t.lower() for t in re.split(r"[\s-]+", m.group()) if t]
        while tokens and tokens[0] in ("and",):
            tokens.pop(0)
        while tokens and tokens[-1] in ("a", "an", "and"):
            tokens.pop()
        if not tokens or not any(t in ("hundred", "thousand") or t in _EN_SMALL or t in _EN_TENS for t in tokens):
            return m.group()
        if tokens[0] in ("a", "an") and not any(t in ("hundred", "thousand") for t in tokens):
            return m.group()
        value = _en_number(tokens)
        if value is None:
            return m.group()
        lead = m.group()[: len(m.group()) - len(m.group().lstrip())]
        return f"{lead}{value}"

    return _EN_RUN.sub(repl, text)


def _normalise(text: str) -> str:
    t = text.translate(str.maketrans("０１２３４５６７８９，．～－", "0123456789,.~-"))
    t = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", t)
    t = _zh_numerals_to_digits(t)
    t = _en_numbers_to_digits(t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*万", lambda m: str(round(float(m.group(1)) * 10000)), t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*千(?=\s*(?:多|余|来)?\s*(?:个)?(?:汉)?字)",
               lambda m: str(round(float(m.group(1)) * 1000)), t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*[kK](?![a-zA-Z])", lambda m: str(round(float(m.group(1)) * 1000)), t)
    return t


# --- mentions: a number with a length unit, and the cues around it -------------------------------

_N = r"(\d+(?:\.\d+)?)"
_EN_UNIT = r"(?:\s*-\s*|\s+)(?:english\s+)?words?\b"
_ZH_UNIT = r"\s*(?:多|余|来)?\s*(?:个)?(?:(?:汉)?字(?![母体幕节号形样符路架军句经典画帖迹据眼面条])|(?:单)?词(?![语汇组典性]))"
_DASH = r"\s*(?:-|–|—|~|to|至|到)\s*"

_RANGE_PATTERNS = [
    re.compile(rf"between\s+{_N}(?:{_EN_UNIT})?\s+and\s+{_N}{_EN_UNIT}", re.IGNORECASE),
    re.compile(rf"(?<![\d.]){_N}(?:{_EN_UNIT})?{_DASH}{_N}{_EN_UNIT}", re.IGNORECASE),
    re.compile(rf"(?<![\d.]){_N}(?:{_ZH_UNIT})?{_DASH}{_N}{_ZH_UNIT}"),
    re.compile(rf"(?:word\s*count|length)[^.!?;\n\d]{{0,20}}?between\s+{_N}\s+and\s+{_N}(?!\d)", re.IGNORECASE),
    re.compile(rf"字数[^。！？；\n\d]{{0,12}}?{_N}{_DASH}{_N}(?![\d字])"),
]
_SINGLE_PATTERNS = [
    re.compile(rf"(?<![\d.]){_N}\s*\+?{_EN_UNIT}", re.IGNORECASE),
    re.compile(rf"(?<![\d.]){_N}{_ZH_UNIT}"),
    re.compile(rf"(?:word\s*count|word\s*limit|length)\s*(?:of|:|is|should\s+be|must\s+be|=)?\s*[^.!?;\n\d]{{0,20}}?{_N}(?![\d.]*\s*(?:%|percent|characters|tokens|pages|words|-word))",
               re.IGNORECASE),
    re.compile(rf"字数[^。！？；\n\d]{{0,12}}?{_N}(?![\d.]*\s*(?:字|%))"),
]

_GAP = r"(?:[\s,:：]*(?:(?:a|an|the|total|of|length|count)\s+){0,3})"
_EN_BEFORE: list[tuple[str, re.Pattern[str]]] = [
    ("about", re.compile(rf"(?:about|around|approximately|approx\.?|roughly|circa|some|close\s+to|nearly|almost|~|≈){_GAP}$", re.IGNORECASE)),
    ("at_least", re.compile(
        rf"(?:at\s+least|no\s+(?:fewer|less|shorter)\s+than|not\s+(?:fewer|less|shorter)\s+than|(?:a\s+)?minimum\s+(?:of\s+)?|min\.?|"
        rf"more\s+than|longer\s+than|over|upwards\s+of|in\s+excess\s+of|exceed(?:s|ing|ed)?|surpass(?:es|ing)?|"
        rf"(?:extend|go|run)(?:s|ing)?\s+(?:well\s+)?beyond|beyond|>=|≥|>){_GAP}$", re.IGNORECASE)),
    ("at_most", re.compile(
        rf"(?:at\s+most|no\s+(?:more|longer)\s+than|not\s+(?:more|longer)\s+than|(?:a\s+)?maximum\s+(?:of\s+)?|max\.?|up\s+to|"
        rf"under|fewer\s+than|less\s+than|shorter\s+than|within|below|"
        rf"(?:not|n't|never|nor)\s+(?:to\s+)?(?:exceed|go\s+(?:over|beyond)|be\s+(?:more|longer)\s+than|surpass)(?:s|ing)?|"
        rf"limit(?:ed)?\s+(?:it\s+|this\s+|your\s+\w+\s+)?to|cap(?:ped)?\s+at|<=|≤|<){_GAP}$", re.IGNORECASE)),
]
_EN_AFTER: list[tuple[str, re.Pattern[str]]] = [
    ("at_least", re.compile(r"^\s*(?:\+|or\s+(?:more|longer|above)|at\s+(?:the\s+)?(?:least|minimum)|minimum|min\b|plus\b)", re.IGNORECASE)),
    ("at_most", re.compile(r"^\s*(?:or\s+(?:less|fewer|shorter|below)|at\s+(?:the\s+)?(?:most|maximum)|maximum|max\b|limit|cap\b)", re.IGNORECASE)),
]
_ZH_BEFORE: list[tuple[str, re.Pattern[str]]] = [
    ("about", re.compile(r"(?:约|大约|大概|差不多|接近|将近|近)\s*(?:为|在)?\s*$")),
    ("at_least", re.compile(r"(?:不少于|不低于|不短于|至少|最少|最低|起码|不得少于|不能少于|不要少于|不应少于|多于|大于|高于|长于|"
                            r"(?<!不)(?<!不[得能要应可])(?<![勿别])超(?:过|出))\s*(?:为|在)?\s*$")),
    ("at_most", re.compile(r"(?:不超过|不超出|不多于|不高于|不大于|不长于|不得超过|不能超过|不要超过|不应超过|不可超过|勿超过|别超过|"
                           r"最多|至多|最长|少于|小于|低于|短于|限(?:制)?(?:在|于)?|以内的?)\s*(?:为|在)?\s*$")),
]
_ZH_AFTER: list[tuple[str, re.Pattern[str]]] = [
    ("about", re.compile(r"^\s*(?:字)?\s*(?:左右|上下)")),
    ("at_least", re.compile(r"^\s*(?:字)?\s*(?:以上|之上|起|打底)")),
    ("at_most", re.compile(r"^\s*(?:字)?\s*(?:以内|以下|之内|内|之下|为限|封顶)")),
]
_ZH_MORE = re.compile(r"^\s*(?:多|余)")
_PER_UNIT = re.compile(r"^\s*(?:each|apiece|per\s+\w+|for\s+each|every)\b", re.IGNORECASE)
_PER_UNIT_BEFORE = re.compile(r"(?:每(?:个|一)?\S{0,3}|各\S{0,2}|each\s+(?:\w+\s+){0,3}(?:of\s+)?(?:about\s+|around\s+)?|"
                              r"per\s+\w+\s+|every\s+\w+\s+)$", re.IGNORECASE)
_TOTAL = re.compile(r"word\s*count|word\s*limit|\btotal|overall|in\s+all|entire|whole|字数|全文|总|整篇|整体|篇幅", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[。！？；!?;\n]|\.(?!\d)")


def _clause_before(text: str, start: int, span: int = 48) -> str:
    window = text[max(0, start - span) : start]
    ends = list(_CLAUSE_END.finditer(window))
    return window[ends[-1].end() :] if ends else window


def _before_cue(text: str, start: int, zh: bool) -> str | None:
    window = _clause_before(text, start)
    found: list[tuple[int, int, str]] = []  # (match start, -length, kind): the cue that reaches furthest left
    for kind, pat in (_ZH_BEFORE if zh else _EN_BEFORE):
        m = pat.search(window)
        if m is not None:
            found.append((m.start(), -(m.end() - m.start()), kind))
    if not found:
        return None
    # Several cues may end right before the number ("no more than" ends with "more than"): the longest wins.
    return min(found)[2]


def _after_cue(text: str, end: int, zh: bool) -> str | None:
    window = text[end : end + 16]
    if zh and _ZH_MORE.match(window):
        return "at_least"
    for kind, pat in (_ZH_AFTER if zh else _EN_AFTER):
        if pat.match(window):
            return kind
    return None


def _is_per_unit(text: str, start: int, end: int) -> bool:
    return bool(_PER_UNIT.match(text[end : end + 24]) or _PER_UNIT_BEFORE.search(_clause_before(text, start, 24)))


MIN_WORDS = 10  # "in one word", "一字一句", "十字路口": below this a number is not a length to write to


def _positive(*values: str) -> list[int] | None:
    nums = [round(float(v)) for v in values]
    return nums if all(n >= MIN_WORDS for n in nums) else None


def parse_length(text: str) -> LengthSpec | None:
    """The length an instruction states, or None when it states none (never a guess)."""
    if not text:
        return None
    t = _normalise(text)
    mentions: list[tuple[int, LengthSpec]] = []
    taken: list[tuple[int, int]] = []
    for pat in _RANGE_PATTERNS:
        for m in pat.finditer(t):
            if _is_per_unit(t, m.start(), m.end()) or any(a < m.end() and m.start() < b for a, b in taken):
                continue
            nums = _positive(m.group(1), m.group(2))
            if nums is None:
                continue
            lo, hi = sorted(nums)
            if lo == hi:
                continue
            mentions.append((m.start(), make_spec("range", lo=lo, hi=hi)))
            taken.append((m.start(), m.end()))
    for pat in _SINGLE_PATTERNS:
        for m in pat.finditer(t):
            s, e = m.start(1), m.end()
            if any(a < e and s < b for a, b in taken) or _is_per_unit(t, s, e):
                continue
            nums = _positive(m.group(1))
            if nums is None:
                continue
            zh = bool(re.search(r"[字词]", m.group()))
            kind = _before_cue(t, s, zh) or _before_cue(t, s, not zh)
            if kind is None:
                kind = _after_cue(t, e, zh) or _after_cue(t, m.end(1), zh) or "about"
            mentions.append((s, make_spec(kind, nums[0])))
            taken.append((s, e))
    if not mentions:
        return None
    return min(mentions, key=lambda x: (_rank(t, x[0]), x[0]))[1]


def _rank(text: str, start: int) -> int:
    """0: stated for the whole text ("word count", "total", "全文"); 2: inside parentheses (a part's); else 1."""
    if _TOTAL.search(_clause_before(text, start, 64)):
        return 0
    line = text[text.rfind("\n", 0, start) + 1 : start]
    if line.count("(") + line.count("（") > line.count(")") + line.count("）"):
        return 2
    return 1
