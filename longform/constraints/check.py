"""Rule checks of a finished text against its requirements, the same for every method: the unit
headings ("## Week 7", "**Week 7**", "第7周"), whether all units are there in order, and whether
each literal constraint holds (its keywords appear in every unit it covers).

A unit's text runs from its heading to the next unit heading. A heading is a line that names the
unit and its number and is a Markdown heading, bold, or short and not a sentence (a body line
"Week 7 was cold." is not a heading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from longform.constraints.literal import to_int
from longform.constraints.spec import Constraint, Requirements, Units
from longform.text import count_words, split_sentences

_NUM = r"\d+|[A-Za-z]+|[零〇一二两三四五六七八九十百]+"
HEADING_MAX_WORDS = 12
COPY_SHARE = 0.5  # a sentence whose word 4-grams are mostly the instruction's is a copy of it
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def norm_tokens(text: str) -> str:
    """Lower-case word tokens joined by spaces (punctuation dropped)."""
    return " ".join(m.group().lower() for m in _TOKEN.finditer(text))


def word_grams(text: str, n: int = 4) -> list[tuple[str, ...]]:
    """Word n-grams with every number as "#" (CJK text: character 6-grams)."""
    toks = ["#" if t.isdigit() else t for t in (m.group().lower() for m in _TOKEN.finditer(text))]
    if toks and all(len(t) == 1 for t in toks):
        n = 6
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def without_copies(text: str, source: str) -> str:
    """`text` without the sentences that copy `source` (most of their word 4-grams are in it): a
    requirement copied out of the instruction is not a requirement met."""
    src = set(word_grams(source))
    keep = []
    for sentence in split_sentences(text):
        grams = word_grams(sentence)
        if grams and sum(g in src for g in grams) / len(grams) >= COPY_SHARE:
            continue
        if not grams and norm_tokens(sentence) and f" {norm_tokens(sentence)} " in f" {norm_tokens(source)} ":
            continue
        keep.append(sentence)
    return " ".join(keep)


def _normalize(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").lower().split())


def contains_keywords(text: str, keywords: tuple[str, ...] | list[str]) -> list[str]:
    """The keywords missing from `text` (case and spacing ignored); [] when all are there."""
    norm = _normalize(text)
    return [k for k in keywords if _normalize(k) not in norm]


def heading_regex(units: Units) -> re.Pattern[str]:
    pre, _, post = units.heading.partition("{n}")
    return re.compile(
        rf"^[ \t>]*(?:#{{1,6}}[ \t]*)?(?:\*\*|__)?[ \t]*{re.escape(pre.strip())}[ \t]*(?P<n>{_NUM})[ \t]*"
        rf"{re.escape(post.strip())}(?![0-9A-Za-z])(?P<rest>.*)$",
        re.IGNORECASE | re.MULTILINE,
    )


def find_headings(text: str, units: Units) -> list[tuple[int, int, int]]:
    """(unit number, line start, line end) of every unit heading, in text order."""
    out = []
    for m in heading_regex(units).finditer(text):
        n = to_int(m["n"])
        if n is None:
            continue
        line = m.group(0)
        marked = line.lstrip(" \t>").startswith(("#", "**", "__"))
        if not marked and (count_words(line) > HEADING_MAX_WORDS or line.rstrip().endswith((".", "!", "?", "。", "！", "？"))):
            continue  # an unmarked line is a heading only if short and not a sentence
        out.append((n, m.start(), m.end()))
    return out


def split_units(text: str, units: Units) -> dict[int, str]:
    """Unit number -> its text (first heading of each number wins; text up to the next heading)."""
    heads = find_headings(text, units)
    out: dict[int, str] = {}
    for i, (n, _, end) in enumerate(heads):
        stop = heads[i + 1][1] if i + 1 < len(heads) else len(text)
        if 1 <= n <= units.count and n not in out:
            out[n] = text[end:stop].strip()
    return out


def longest_increasing(seq: list[int]) -> int:
    """Length of the longest strictly increasing subsequence."""
    import bisect

    tails: list[int] = []
    for x in seq:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


@dataclass
class ConstraintResult:
    id: str
    kind: str
    where: str
    units: list[int]
    checked_by: str  # "rule" | "model" | "not checked"
    satisfied: bool | None  # None: not checked (no keywords and no model verdict)
    failed_units: list[int] = field(default_factory=list)
    missing: dict[int, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "where": self.where, "units": self.units,
                "checked_by": self.checked_by, "satisfied": self.satisfied, "failed_units": self.failed_units,
                "missing": {str(k): v for k, v in self.missing.items()}}


def check_constraint(c: Constraint, unit_texts: dict[int, str], count: int, unit_name: str = "unit") -> ConstraintResult:
    """A literal constraint holds when every unit it covers exists and contains all its keywords."""
    covered = c.units(count)
    if not c.literal:
        return ConstraintResult(c.id, c.kind, c.where(unit_name), covered, "not checked", None)
    missing: dict[int, list[str]] = {}
    for n in covered:
        if n not in unit_texts:
            missing[n] = list(c.keywords)
            continue
        miss = contains_keywords(unit_texts[n], c.keywords)
        if miss:
            missing[n] = miss
    return ConstraintResult(c.id, c.kind, c.where(unit_name), covered, "rule", not missing, sorted(missing), missing)


@dataclass
class TextCheck:
    """How a finished text meets its requirements, by rule."""

    units: int  # N
    found: int  # units with a heading
    in_order: int  # longest run of unit headings in increasing order (within 1..N)
    exact_order: bool  # the headings are exactly 1..N, once each, in order
    constraints: list[ConstraintResult]

    @property
    def literal_total(self) -> int:
        return sum(1 for r in self.constraints if r.checked_by == "rule")

    @property
    def satisfied(self) -> int:
        return sum(1 for r in self.constraints if r.checked_by == "rule" and r.satisfied)

    @property
    def share(self) -> float | None:
        return self.satisfied / self.literal_total if self.literal_total else None

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units, "found": self.found, "in_order": self.in_order, "exact_order": self.exact_order,
                "constraints_satisfied": self.satisfied, "constraints_checked": self.literal_total,
                "share": self.share, "constraints": [r.to_dict() for r in self.constraints]}


def check_text(text: str, req: Requirements, instruction: str | None = None) -> TextCheck:
    """Rule check of a whole manuscript (any method's) against `req` (which must have units). With
    `instruction`, sentences that copy it do not count towards a keyword."""
    if req.units is None:
        raise ValueError("check_text needs requirements with units")
    n = req.units.count
    seq = [k for k, _, _ in find_headings(text, req.units) if 1 <= k <= n]
    unit_texts = split_units(text, req.units)
    if instruction:
        unit_texts = {k: without_copies(t, instruction) for k, t in unit_texts.items()}
        text = without_copies(text, instruction)
    results = []
    for c in req.constraints:
        if c.kind == "global" and c.literal:
            miss = contains_keywords(text, c.keywords)
            results.append(ConstraintResult(c.id, c.kind, "whole text", list(range(1, n + 1)), "rule", not miss,
                                            [], {0: miss} if miss else {}))
        else:
            results.append(check_constraint(c, unit_texts, n, req.units.name))
    return TextCheck(units=n, found=len(set(seq)), in_order=longest_increasing(seq),
                     exact_order=seq == list(range(1, n + 1)), constraints=results)
