"""Requirements stated literally in an instruction, found by rule (no model): the unit count ("a
20-week diary", "12 chapters", "一份20周的日记"), and single ("week 7", "第7周"), range ("weeks 10-15",
"第10到15周") and periodic ("every 4th week", "每4周") constraints, each with the clause that states
it and the quoted phrases in that clause as its keywords.

What this finds is what the user wrote, so the program can check it before any model call: "week 30"
of a 20-week diary is the user's contradiction, not a model's mistake. Numbers the model extracts
are kept only if they appear here (`numbers_in`), so a hallucinated unit number is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from longform.constraints.spec import Constraint, Requirements, Units

# English unit nouns (singular, plural, adjective forms) -> the unit's name.
_EN_UNITS = {
    "week": "Week", "weeks": "Week", "weekly": "Week",
    "day": "Day", "days": "Day", "daily": "Day",
    "month": "Month", "months": "Month", "monthly": "Month",
    "year": "Year", "years": "Year",
    "floor": "Floor", "floors": "Floor", "storey": "Floor", "storeys": "Floor",
    "level": "Level", "levels": "Level",
    "chapter": "Chapter", "chapters": "Chapter",
    "course": "Course", "courses": "Course",
    "dish": "Dish", "dishes": "Dish",
    "room": "Room", "rooms": "Room",
    "episode": "Episode", "episodes": "Episode",
    "letter": "Letter", "letters": "Letter",
    "entry": "Entry", "entries": "Entry",
    "lesson": "Lesson", "lessons": "Lesson",
    "step": "Step", "steps": "Step",
    "act": "Act", "acts": "Act",
    "scene": "Scene", "scenes": "Scene",
    "stop": "Stop", "stops": "Stop",
    "station": "Station", "stations": "Station",
    "stage": "Stage", "stages": "Stage",
    "part": "Part", "parts": "Part",
    "section": "Section", "sections": "Section",
    "stanza": "Stanza", "stanzas": "Stanza",
    "recipe": "Recipe", "recipes": "Recipe",
}
# Chinese unit nouns -> heading template.
_ZH_UNITS = {
    "周": "第{n}周", "星期": "第{n}周", "天": "第{n}天", "日": "第{n}天", "个月": "第{n}个月", "月": "第{n}个月",
    "年": "第{n}年", "层": "第{n}层", "楼": "第{n}层", "章": "第{n}章", "道菜": "第{n}道菜", "道": "第{n}道菜",
    "封信": "第{n}封信", "集": "第{n}集", "站": "第{n}站", "课": "第{n}课", "节": "第{n}节", "幕": "第{n}幕",
    "篇": "第{n}篇", "部分": "第{n}部分",
}
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "hundred": 100, "a hundred": 100, "one hundred": 100,
}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "other": 2,
}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_EN_NOUN = "|".join(sorted(_EN_UNITS, key=len, reverse=True))
_ZH_NOUN = "|".join(sorted(_ZH_UNITS, key=len, reverse=True))
_EN_NUM = r"\d+|" + "|".join(sorted(_WORDS, key=len, reverse=True))
_ZH_NUM = r"\d+|[零〇一二两三四五六七八九十百]+"
_SUFFIX = r"(?:st|nd|rd|th)?"

_I = re.IGNORECASE
_EN_COUNT = [
    re.compile(rf"\b(?P<n>{_EN_NUM})[-\s](?P<u>{_EN_NOUN})\b(?!\s*(?:\d|-\s*\d))", _I),
    re.compile(rf"\b(?P<n>{_EN_NUM})\s+(?P<u>weekly|daily|monthly)\s+(?:diary\s+)?(?:entries|posts|logs|reports|letters)\b", _I),
]
_EN_RANGE = [
    re.compile(rf"\bfrom\s+(?:the\s+)?(?P<u>{_EN_NOUN})\s+(?P<a>\d+)\s+(?:to|through|thru|until|till)\s+(?:(?:the\s+)?(?:{_EN_NOUN})\s+)?(?P<b>\d+)\b", _I),
    re.compile(rf"\bbetween\s+(?P<u>{_EN_NOUN})\s+(?P<a>\d+)\s+and\s+(?:(?:{_EN_NOUN})\s+)?(?P<b>\d+)\b", _I),
    re.compile(rf"\b(?P<u>{_EN_NOUN})\s+(?P<a>\d+)\s*(?:-|–|—|to|through|thru)\s*(?:(?:{_EN_NOUN})\s+)?(?P<b>\d+)\b", _I),
]
_EN_PERIODIC = [
    re.compile(rf"\bevery\s+(?P<k>\d+){_SUFFIX}\s+(?P<u>{_EN_NOUN})\b", _I),
    re.compile(rf"\bevery\s+(?P<k>{'|'.join(_ORDINAL_WORDS)})\s+(?P<u>{_EN_NOUN})\b", _I),
    re.compile(rf"\b(?:every|each)\s+(?P<u>{_EN_NOUN})\b", _I),
]
_EN_START = re.compile(rf"^[\s,(]*(?:starting|beginning)?\s*(?:from|with|at|in)\s+(?:the\s+)?(?:{_EN_NOUN})\s+(?P<s>\d+)", _I)
_EN_SINGLE = [
    re.compile(rf"\b(?P<u>{_EN_NOUN})\s+(?P<a>\d+)\b", _I),
    re.compile(rf"\bthe\s+(?P<a>\d+){_SUFFIX}\s+(?P<u>{_EN_NOUN})\b", _I),
    re.compile(rf"\bthe\s+(?P<w>first|last|final)\s+(?P<u>{_EN_NOUN})\b", _I),
]
_ZH_COUNT = re.compile(rf"(?<![第每隔])(?P<n>{_ZH_NUM})\s*(?P<u>{_ZH_NOUN})")
_ZH_RANGE = re.compile(rf"第\s*(?P<a>{_ZH_NUM})\s*(?:{_ZH_NOUN})?\s*(?:到|至|-|—|~|～)\s*第?\s*(?P<b>{_ZH_NUM})\s*(?P<u>{_ZH_NOUN})")
_ZH_PERIODIC = [
    re.compile(rf"每(?:隔)?\s*(?P<k>{_ZH_NUM})\s*(?P<u>{_ZH_NOUN})"),
    re.compile(rf"每一?(?P<u>{_ZH_NOUN})"),
]
_ZH_START = re.compile(rf"^[\s，,（(]*(?:从|自)\s*第\s*(?P<s>{_ZH_NUM})\s*(?:{_ZH_NOUN})")
_ZH_SINGLE = [
    re.compile(rf"第\s*(?P<a>{_ZH_NUM})\s*(?P<u>{_ZH_NOUN})"),
    re.compile(rf"(?P<w>最后)一?(?P<u>{_ZH_NOUN})"),
]
_SENTENCE = re.compile(r"[^.;!?\n。；！？]+[.;!?。；！？]?")
_QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|“([^”\n]{1,80})”|「([^」\n]{1,80})」|『([^』\n]{1,80})』")
_CLAUSE_TRIM = re.compile(r"^[\s,，、:：;；]*(?:(?:and|or)\b|以及|并且|并|和)?[\s,，、:：]*|[\s,，、:：;；.。]*(?:\b(?:and|or)|以及|并且|并|和)?[\s,，、:：;；.。]*$", _I)


def _cn_number(text: str) -> int | None:
    """一 .. 九百九十九 as an int (None if it is not one)."""
    if not text or any(ch not in _CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def to_int(token: str) -> int | None:
    t = token.strip().lower()
    if t.isdigit():
        return int(t)
    if t in _WORDS:
        return _WORDS[t]
    if t in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[t]
    return _cn_number(t)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str  # count | single | range | periodic
    name: str  # unit name (English) or heading template (Chinese)
    a: int | None = None
    b: int | None = None
    every: int | None = None
    last: bool = False


def _unit_name(noun: str, zh: bool) -> str:
    return _ZH_UNITS[noun] if zh else _EN_UNITS[noun.lower()]


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _hits(text: str) -> list[_Hit]:
    """Every unit mention, longest reading first (a range is not also read as a single)."""
    hits: list[_Hit] = []
    taken: list[tuple[int, int]] = []

    def add(h: _Hit) -> None:
        if not _overlaps((h.start, h.end), taken):
            hits.append(h)
            taken.append((h.start, h.end))

    for pat in _EN_RANGE:
        for m in pat.finditer(text):
            add(_Hit(m.start(), m.end(), "range", _unit_name(m["u"], False), int(m["a"]), int(m["b"])))
    for m in _ZH_RANGE.finditer(text):
        add(_Hit(m.start(), m.end(), "range", _unit_name(m["u"], True), to_int(m["a"]), to_int(m["b"])))
    for pat in _EN_PERIODIC:
        for m in pat.finditer(text):
            k = to_int(m["k"]) if "k" in pat.groupindex else 1
            start = _EN_START.match(text[m.end():])
            end = m.end() + (start.end() if start else 0)
            add(_Hit(m.start(), end, "periodic", _unit_name(m["u"], False), a=int(start["s"]) if start else None, every=k))
    for pat in _ZH_PERIODIC:
        for m in pat.finditer(text):
            k = to_int(m["k"]) if "k" in pat.groupindex else 1
            start = _ZH_START.match(text[m.end():])
            end = m.end() + (start.end() if start else 0)
            add(_Hit(m.start(), end, "periodic", _unit_name(m["u"], True), a=to_int(start["s"]) if start else None, every=k))
    for pat in (_EN_SINGLE[2], _ZH_SINGLE[1]):  # "the last week", "最后一周": before "一周" reads as a count
        zh = pat is _ZH_SINGLE[1]
        for m in pat.finditer(text):
            first = m["w"].lower() == "first"
            add(_Hit(m.start(), m.end(), "single", _unit_name(m["u"], zh), a=1 if first else None, last=not first))
    for pat in _EN_COUNT:
        for m in pat.finditer(text):
            n = to_int(m["n"])
            if n is not None:
                add(_Hit(m.start(), m.end(), "count", _unit_name(m["u"], False), a=n))
    for m in _ZH_COUNT.finditer(text):
        n = to_int(m["n"])
        if n is not None:
            add(_Hit(m.start(), m.end(), "count", _unit_name(m["u"], True), a=n))
    for pat in (_EN_SINGLE[0], _EN_SINGLE[1], _ZH_SINGLE[0]):
        zh = pat is _ZH_SINGLE[0]
        for m in pat.finditer(text):
            add(_Hit(m.start(), m.end(), "single", _unit_name(m["u"], zh), a=to_int(m["a"])))
    return sorted(hits, key=lambda h: h.start)


def _clause(sentence: str, hit: _Hit, prev_end: int, next_start: int) -> str:
    """The part of the sentence that states this hit's constraint."""
    lo = max(prev_end, 0)
    head = sentence[lo:hit.start]
    cut = max(head.rfind(","), head.rfind("，"), head.rfind(";"), head.rfind("；"), head.rfind(":"), head.rfind("："))
    if cut >= 0:
        lo = lo + cut + 1
    text = sentence[lo:next_start].strip()
    return _CLAUSE_TRIM.sub("", text).strip()


def keywords_in(clause: str) -> tuple[str, ...]:
    """The quoted phrases of a clause: the literal strings its units must contain."""
    out = []
    for m in _QUOTED.finditer(clause):
        k = next(g for g in m.groups() if g is not None).strip().strip(".,;:!?。，；：")
        if k:
            out.append(k)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class LiteralFinding:
    """What the instruction states literally. `unit_name` is the unit the count names (None: no count);
    constraints on another unit noun, or with no count to check them against, are in `ignored`."""

    requirements: Requirements
    unit_name: str | None
    ignored: tuple[str, ...] = ()


def find(instruction: str) -> LiteralFinding:
    """The requirements an instruction states in so many words (no model)."""
    sentences = [(m.start(), m.group()) for m in _SENTENCE.finditer(instruction)]
    found: list[tuple[_Hit, str]] = []
    count_hit: _Hit | None = None
    for offset, sentence in sentences:
        hits = _hits(sentence)
        for i, h in enumerate(hits):
            if h.kind == "count":
                if count_hit is None:
                    count_hit = h
                continue
            prev_end = hits[i - 1].end if i > 0 else 0
            next_start = hits[i + 1].start if i + 1 < len(hits) else len(sentence)
            # A constraint's clause runs to the next constraint, not past a count mention.
            found.append((h, _clause(sentence, h, prev_end, next_start)))
    units = None
    if count_hit is not None and count_hit.a is not None:
        name = count_hit.name
        heading = name if "{n}" in name else f"{name} {{n}}"
        units = Units(name=_display_name(name), count=count_hit.a, heading=heading)
    constraints: list[Constraint] = []
    ignored: list[str] = []
    for h, clause in found:
        if units is None or h.name != count_hit.name:  # type: ignore[union-attr]
            ignored.append(clause)
            continue
        keywords = keywords_in(clause)
        if h.kind == "periodic" and h.every == 1 and h.a is None and not keywords:
            ignored.append(clause)  # "one entry for each week": the structure, not a constraint
            continue
        text = clause or "see the instruction"
        cid = f"c{len(constraints) + 1}"
        if h.kind == "single":
            unit = units.count if h.last else h.a
            constraints.append(Constraint("single", text, keywords, unit=unit, id=cid, source="rule"))
        elif h.kind == "range":
            constraints.append(Constraint("range", text, keywords, start=h.a, end=h.b, id=cid, source="rule"))
        else:
            constraints.append(Constraint("periodic", text, keywords, every=h.every, start=h.a if h.a is not None else h.every,
                                          id=cid, source="rule"))
    return LiteralFinding(Requirements(units, tuple(constraints)), units.name if units else None, tuple(ignored))


def _display_name(name: str) -> str:
    """第{n}周 -> 周 (the unit's name); English names are already names."""
    return name.replace("第{n}", "").replace("{n}", "") or name


def numbers_in(instruction: str) -> set[int]:
    """Every number the instruction writes (digits, English words, ordinals, Chinese numerals), except
    word counts ("2000-word", "2000字"): what a model-extracted unit number must be one of."""
    nums: set[int] = set()
    for m in re.finditer(rf"(?P<n>\d+|{'|'.join(_WORDS)}|{'|'.join(_ORDINAL_WORDS)}|[零〇一二两三四五六七八九十百]+)(?P<rest>{_SUFFIX}[-\s]*(?:words?\b|字)?)",
                         instruction, _I):
        if re.search(r"words?|字", m["rest"], _I):
            continue
        if m["n"] in ("一", "两") and instruction[max(0, m.start() - 1):m.start()] != "第":
            continue  # 一份, 两个: an article or measure, not a unit number
        v = to_int(m["n"])
        if v is not None:
            nums.add(v)
    return nums
