"""Requirements of a unit-structured text: the units (20 weekly entries, 12 chapters, 100 floors)
and the constraints on them, as data; read from JSON and checked against the target length.

JSON form (what `writer --requirements FILE` reads and what the extractor produces):

    {"units": {"name": "Week", "count": 20, "heading": "Week {n}"},
     "constraints": [
       {"kind": "single",   "unit": 7,                "text": "a trip to the lake", "keywords": ["lake"]},
       {"kind": "range",    "from": 10, "to": 15,      "text": "the narrator is ill"},
       {"kind": "periodic", "every": 4, "start": 4,    "text": "a letter from home", "keywords": ["letter"]},
       {"kind": "global",                              "text": "written in the first person"}]}

`units` may be left out (or null): the text then has free sections and only global constraints
apply. A periodic constraint covers start, start+every, ... (start defaults to `every`: "every 4th
week" is weeks 4, 8, 12...). `keywords` are literal strings each covered unit must contain (checked
by rule); a constraint without keywords is checked by the model.

Every problem is a UserError naming the field and the fix: unit 30 of 20, every 0th unit, 500 units
in 300 words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from longform.errors import UserError

KINDS = ("single", "range", "periodic", "global")
MAX_UNITS = 300
MIN_UNIT_WORDS = 20  # a unit shorter than this cannot carry a heading and a constraint
MAX_CONSTRAINTS = 100
MAX_TEXT_CHARS = 300
MAX_KEYWORDS = 8
_CONSTRAINT_KEYS = {"id", "kind", "unit", "from", "to", "every", "start", "text", "keywords", "source"}
_UNITS_KEYS = {"name", "count", "heading"}


@dataclass(frozen=True)
class Constraint:
    """One requirement on the units it covers (all of them for `global`)."""

    kind: str
    text: str
    keywords: tuple[str, ...] = ()
    unit: int | None = None  # single
    start: int | None = None  # range: first unit; periodic: first covered unit
    end: int | None = None  # range: last unit
    every: int | None = None  # periodic
    id: str = ""
    source: str = "file"  # file | rule | model | rule+model

    @property
    def literal(self) -> bool:
        """Checked by rule (its keywords must appear) rather than by the model."""
        return bool(self.keywords)

    def units(self, count: int) -> list[int]:
        """The unit numbers (1-based) this constraint covers in a text of `count` units."""
        if self.kind == "single":
            return [self.unit] if self.unit is not None and 1 <= self.unit <= count else []
        if self.kind == "range":
            lo, hi = max(1, self.start or 1), min(count, self.end or count)
            return list(range(lo, hi + 1))
        if self.kind == "periodic":
            step = self.every or 1
            first = self.start if self.start is not None else step
            return list(range(first, count + 1, step)) if first >= 1 else []
        return list(range(1, count + 1))

    def where(self, unit_name: str = "unit") -> str:
        """Where it applies, in words: "week 7", "weeks 10-15", "every 4th week from week 4"."""
        n = unit_name.lower() or "unit"
        if self.kind == "single":
            return f"{n} {self.unit}"
        if self.kind == "range":
            return f"{n}s {self.start}-{self.end}"
        if self.kind == "periodic":
            first = self.start if self.start is not None else self.every
            return f"every {_ordinal(self.every or 1)} {n} from {n} {first}"
        return f"every {n}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.kind == "single":
            d["unit"] = self.unit
        elif self.kind == "range":
            d["from"], d["to"] = self.start, self.end
        elif self.kind == "periodic":
            d["every"] = self.every
            d["start"] = self.start if self.start is not None else self.every
        d["text"] = self.text
        d["keywords"] = list(self.keywords)
        d["source"] = self.source
        return d


@dataclass(frozen=True)
class Units:
    name: str  # "Week", "Floor", "第{n}周"-style names keep the heading template
    count: int
    heading: str  # "Week {n}"

    def label(self, n: int) -> str:
        return self.heading.replace("{n}", str(n))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "heading": self.heading}


@dataclass(frozen=True)
class Requirements:
    units: Units | None = None
    constraints: tuple[Constraint, ...] = field(default_factory=tuple)

    @property
    def count(self) -> int | None:
        return self.units.count if self.units else None

    def for_unit(self, n: int) -> list[Constraint]:
        """Constraints that cover unit `n` (1-based), globals included."""
        if self.units is None:
            return [c for c in self.constraints if c.kind == "global"]
        return [c for c in self.constraints if n in c.units(self.units.count)]

    def to_dict(self) -> dict[str, Any]:
        return {"units": self.units.to_dict() if self.units else None,
                "constraints": [c.to_dict() for c in self.constraints]}

    def is_empty(self) -> bool:
        return self.units is None and not self.constraints


def _ordinal(k: int) -> str:
    if 10 <= k % 100 <= 20:
        return f"{k}th"
    return f"{k}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th') }"


def default_heading(name: str) -> str:
    """ "Week" -> "Week {n}"; a name holding {n} is its own template (第{n}周)."""
    return name if "{n}" in name else f"{name} {{n}}"


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise UserError(f"requirements: {where} must be a whole number, got {value!r}")
    return value


def _str(value: Any, where: str, limit: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        raise UserError(f"requirements: {where} must be a string, got {type(value).__name__}")
    return " ".join(value.split())[:limit]


def constraint_from_dict(d: Any, i: int, source: str = "file") -> Constraint:
    """One constraint from its JSON object (shape only; `validate` checks it against the units)."""
    where = f"constraints[{i}]"
    if not isinstance(d, dict):
        raise UserError(f"requirements: {where} must be an object, got {type(d).__name__}")
    unknown = sorted(set(d) - _CONSTRAINT_KEYS)
    if unknown:
        raise UserError(f"requirements: {where} has unknown key {unknown[0]!r}; keys: {', '.join(sorted(_CONSTRAINT_KEYS))}")
    kind = d.get("kind")
    if kind not in KINDS:
        raise UserError(f"requirements: {where}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    text = _str(d.get("text", ""), f"{where}.text")
    kws = d.get("keywords") or []
    if not isinstance(kws, list) or not all(isinstance(k, str) for k in kws):
        raise UserError(f"requirements: {where}.keywords must be a list of strings")
    keywords = tuple(dict.fromkeys(" ".join(k.split()) for k in kws if k.strip()))[:MAX_KEYWORDS]
    if not text and not keywords:
        raise UserError(f"requirements: {where} says nothing; give it a text or keywords")
    c = Constraint(kind=kind, text=text or "mention " + ", ".join(f'"{k}"' for k in keywords), keywords=keywords,
                   id=str(d.get("id") or f"c{i + 1}"), source=str(d.get("source") or source))
    if kind == "single":
        if "unit" not in d:
            raise UserError(f"requirements: {where} (single) needs \"unit\": the unit number it applies to")
        return replace(c, unit=_int(d["unit"], f"{where}.unit"))
    if kind == "range":
        if "from" not in d or "to" not in d:
            raise UserError(f"requirements: {where} (range) needs \"from\" and \"to\" unit numbers")
        return replace(c, start=_int(d["from"], f"{where}.from"), end=_int(d["to"], f"{where}.to"))
    if kind == "periodic":
        if "every" not in d:
            raise UserError(f"requirements: {where} (periodic) needs \"every\": the period in units")
        every = _int(d["every"], f"{where}.every")
        start = _int(d["start"], f"{where}.start") if d.get("start") is not None else every
        return replace(c, every=every, start=start)
    return c


def from_dict(d: Any, source: str = "file") -> Requirements:
    """Requirements from their JSON value (shape only; call `validate` with the target)."""
    if not isinstance(d, dict):
        raise UserError(f"requirements must be a JSON object with \"units\" and \"constraints\", got {type(d).__name__}")
    unknown = sorted(set(d) - {"units", "constraints"})
    if unknown:
        raise UserError(f"requirements: unknown key {unknown[0]!r}; use \"units\" and \"constraints\"")
    units = None
    u = d.get("units")
    if u is not None:
        if not isinstance(u, dict):
            raise UserError("requirements: units must be an object like {\"name\": \"Week\", \"count\": 20}")
        bad = sorted(set(u) - _UNITS_KEYS)
        if bad:
            raise UserError(f"requirements: units has unknown key {bad[0]!r}; keys: name, count, heading")
        name = _str(u.get("name", ""), "units.name", 40)
        if not name:
            raise UserError("requirements: units.name is empty; name the unit, e.g. \"Week\" or \"Chapter\"")
        if "count" not in u:
            raise UserError("requirements: units.count is missing; say how many units the text has")
        heading = _str(u.get("heading") or default_heading(name), "units.heading", 60)
        if "{n}" not in heading:
            raise UserError(f"requirements: units.heading {heading!r} must contain {{n}} (the unit number)")
        units = Units(name=name, count=_int(u["count"], "units.count"), heading=heading)
    cs = d.get("constraints") or []
    if not isinstance(cs, list):
        raise UserError("requirements: constraints must be a list")
    if len(cs) > MAX_CONSTRAINTS:
        raise UserError(f"requirements: {len(cs)} constraints is more than {MAX_CONSTRAINTS}; merge some")
    constraints = tuple(constraint_from_dict(c, i, source) for i, c in enumerate(cs))
    ids = [c.id for c in constraints]
    if len(set(ids)) != len(ids):
        raise UserError("requirements: two constraints share an id; give each its own")
    return Requirements(units=units, constraints=constraints)


def problem(req: Requirements, target_words: int | None = None) -> str | None:
    """What makes `req` impossible or contradictory (with the fix), or None when it is sound."""
    u = req.units
    name = (u.name.lower() if u else "unit") or "unit"
    if u is not None:
        if u.count < 1:
            return f"the text needs at least 1 {name}, got {u.count}"
        if target_words is not None and target_words < u.count * MIN_UNIT_WORDS:
            per = target_words / u.count
            return (f"{u.count} {name}s in {target_words:,} words leaves {per:.1f} words a {name}; each needs at least "
                    f"{MIN_UNIT_WORDS}: raise the length to {u.count * MIN_UNIT_WORDS:,} words or ask for at most "
                    f"{max(1, target_words // MIN_UNIT_WORDS)} {name}s")
        if u.count > MAX_UNITS:
            return f"{u.count} {name}s is more than {MAX_UNITS}; ask for fewer units"
    for c in req.constraints:
        if c.kind == "global":
            continue
        if u is None:
            return f"constraint {c.id} ({c.kind}) refers to unit numbers but the text has no units; add \"units\""
        n = u.count
        if c.kind == "single" and not 1 <= (c.unit or 0) <= n:
            return f"constraint {c.id} is on {name} {c.unit}, but the text has {name}s 1-{n}; use a {name} in 1..{n}"
        if c.kind == "range":
            if not (1 <= (c.start or 0) <= n and 1 <= (c.end or 0) <= n):
                return (f"constraint {c.id} is on {name}s {c.start}-{c.end}, but the text has {name}s 1-{n}; "
                        f"keep the range inside 1..{n}")
            if c.start > c.end:  # type: ignore[operator]
                return f"constraint {c.id} runs from {name} {c.start} back to {name} {c.end}; give from <= to"
        if c.kind == "periodic":
            if (c.every or 0) < 1:
                return f"constraint {c.id} is on every {c.every}th {name}; the period must be 1 or more"
            first = c.start if c.start is not None else c.every
            if not 1 <= first <= n:  # type: ignore[operator]
                return (f"constraint {c.id} starts at {name} {first}, but the text has {name}s 1-{n}; "
                        f"start inside 1..{n}")
    return None


def validate(req: Requirements, target_words: int | None = None) -> Requirements:
    """`req` unchanged when sound; a UserError naming the problem otherwise."""
    p = problem(req, target_words)
    if p is not None:
        raise UserError(f"impossible requirements: {p}")
    return req


def load(path: str | Path) -> dict[str, Any]:
    """The JSON value of a requirements file (shape checked), for `writer --requirements FILE`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UserError(f"cannot read --requirements {path}: {why}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--requirements {path} is not valid JSON ({exc.msg} at line {exc.lineno}); fix the file") from None
    from_dict(value)  # shape errors now, before any run starts
    return value
