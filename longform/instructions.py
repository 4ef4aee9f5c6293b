"""Instruction sources for dataset jobs: read, validate, find the stated length, augment.

Sources: a JSONL file, a Parquet file, or a local Hugging Face dataset directory (saved with
`save_to_disk`, or a folder of .parquet / .jsonl files). A row's instruction is its `instruction`,
`prompt` or `query` field (or the configured one). Errors name the file and the line (or row).

The explicit length of an instruction comes from, in order: LonGen's `type` + `constraint`
fields; the length stated in the text, read by the one parser `longform.lengths.parse_length`
("about 500 words", "between 300 and 500 words", "at least 800 words", "不超过600字", "两千字左右",
...); a numeric `length` field (LongBench-Write).
Without one, the job's default target applies and the record is marked `implicit`.

Augmentation as in Self-Lengthen: an instruction without a stated length is rewritten to carry
one (about / range / at least / at most), in its own language; the choice of kind and length is
a deterministic function of the instruction and a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longform.errors import UserError
from longform.lengths import LengthSpec, make_spec, parse_length
from longform.text import detect_language

INSTRUCTION_FIELDS = ("instruction", "prompt", "query")
KINDS = ("about", "range", "at_least", "at_most")
_LONGEN_KIND = {"about": "about", "range": "range", "above": "at_least", "below": "at_most"}


# An explicit length: the one parser's spec (kind, length, lo, hi, target_words).
Constraint = LengthSpec
make_constraint = make_spec


@dataclass
class Instruction:
    instruction: str
    lang: str
    target_words: int
    constraint: Constraint | None  # None: no explicit length (implicit default target)
    source: str  # "file:line" (or "file:row N")
    meta: dict[str, Any] = field(default_factory=dict)
    augmented_from: str | None = None  # the original instruction's text when this is a rewrite

    def constraint_dict(self) -> dict[str, Any] | None:
        return self.constraint.to_dict() if self.constraint else None


# --- the length stated in an instruction -------------------------------------------------------


def find_constraint(text: str) -> Constraint | None:
    """The length constraint stated in an instruction's text, or None (see longform.lengths)."""
    return parse_length(text)


def _constraint_from_fields(row: dict[str, Any], where: str) -> Constraint | None:
    kind = row.get("type")
    text = row.get("constraint")
    if isinstance(kind, str) and isinstance(text, str) and kind.strip().lower() in _LONGEN_KIND:
        c = find_constraint(text)
        if c is None:
            nums = re.findall(r"\d+(?:,\d{3})*", text)
            if not nums:
                raise UserError(f"{where}: `constraint` {text!r} states no length")
            c = make_constraint("about", int(nums[0].replace(",", "")))
        mapped = _LONGEN_KIND[kind.strip().lower()]
        if mapped != c.kind and mapped != "range":
            c = make_constraint(mapped, c.length)
        return c
    return None


# --- reading ------------------------------------------------------------------------------------


def _iter_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read instruction file {path}: {exc.strerror}") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{lineno}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno}); fix or remove the line") from None


def _iter_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise UserError(f"{path}: not a readable Parquet file ({exc})") from None
    for i, row in enumerate(table.to_pylist()):
        yield f"{path}:row {i}", row


def _iter_dir(path: Path) -> Iterator[tuple[str, Any]]:
    if (path / "dataset_info.json").exists() or (path / "state.json").exists() or (path / "dataset_dict.json").exists():
        from datasets import DatasetDict, load_from_disk

        try:
            ds = load_from_disk(str(path))
        except Exception as exc:  # noqa: BLE001
            raise UserError(f"{path}: not a loadable Hugging Face dataset directory ({exc})") from None
        if isinstance(ds, DatasetDict):
            split = "train" if "train" in ds else next(iter(ds))
            ds = ds[split]
        for i, row in enumerate(ds):
            yield f"{path}:row {i}", row
        return
    files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".parquet") and p.is_file())
    if not files:
        raise UserError(f"{path}: directory holds no Hugging Face dataset and no .jsonl/.parquet files")
    for f in files:
        yield from (_iter_jsonl(f) if f.suffix == ".jsonl" else _iter_parquet(f))


def iter_rows(path: str | Path) -> Iterator[tuple[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise UserError(f"instruction file {p} does not exist; set source.path to a .jsonl, .parquet or dataset directory")
    if p.is_dir():
        return _iter_dir(p)
    if p.suffix == ".parquet":
        return _iter_parquet(p)
    if p.suffix in (".jsonl", ".json", ".ndjson"):
        return _iter_jsonl(p)
    raise UserError(f"instruction file {p}: unknown format {p.suffix!r}; use .jsonl, .parquet or a dataset directory")


@dataclass
class LoadReport:
    rows: int = 0
    invalid: list[str] = field(default_factory=list)  # "file:line: reason" of skipped rows
    duplicates: int = 0


def parse_row(where: str, row: Any, default_target_words: int, field_name: str | None = None) -> Instruction:
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with an `instruction` field, got {type(row).__name__}")
    names = (field_name,) if field_name else INSTRUCTION_FIELDS
    key = next((n for n in names if n in row), None)
    text = row.get(key) if key else None
    if not isinstance(text, str) or not text.strip():
        wanted = f"`{field_name}`" if field_name else "`instruction`, `prompt` or `query`"
        what = "is empty" if key else "is missing"
        raise UserError(f"{where}: record has no instruction ({wanted} {what})")
    text = text.strip()
    constraint = _constraint_from_fields(row, where) or find_constraint(text)
    length = row.get("length")
    if constraint is None and isinstance(length, (int, float)) and not isinstance(length, bool) and length > 0:
        constraint = make_constraint("about", int(length))
    lang = row.get("lang") or row.get("language")
    if lang not in ("en", "zh"):
        lang = detect_language(text)
    meta = {k: v for k, v in row.items() if k != key and isinstance(v, (str, int, float, bool)) and k not in ("lang", "language")}
    target = constraint.target_words if constraint else int(default_target_words)
    return Instruction(text, lang, target, constraint, where, meta)


def load_instructions(path: str | Path, *, default_target_words: int, field_name: str | None = None,
                      skip_invalid: bool = False) -> tuple[list[Instruction], LoadReport]:
    """Every instruction of a source, in file order; exact duplicate instructions kept once."""
    report = LoadReport()
    out: list[Instruction] = []
    seen: set[str] = set()
    for where, row in iter_rows(path):
        report.rows += 1
        try:
            ins = parse_row(where, row, default_target_words, field_name)
        except UserError as exc:
            if not skip_invalid:
                raise
            report.invalid.append(str(exc))
            continue
        if ins.instruction in seen:
            report.duplicates += 1
            continue
        seen.add(ins.instruction)
        out.append(ins)
    if not out:
        raise UserError(f"{path}: no usable instruction in {report.rows} row(s)")
    return out, report


# --- Self-Lengthen augmentation -----------------------------------------------------------------

_EN_TEMPLATES = {
    "about": "Write about {L} words.",
    "range": "Write between {lo} and {hi} words.",
    "at_least": "Write at least {L} words.",
    "at_most": "Write no more than {L} words.",
}
_ZH_TEMPLATES = {
    "about": "字数约{L}字。",
    "range": "字数在{lo}到{hi}字之间。",
    "at_least": "字数不少于{L}字。",
    "at_most": "字数不超过{L}字。",
}


def _round50(x: float) -> int:
    return max(50, round(x / 50.0) * 50)


def with_constraint(text: str, lang: str, kind: str, length: int) -> tuple[str, Constraint]:
    """The instruction rewritten to state a length of `kind` around `length` words."""
    templates = _ZH_TEMPLATES if lang == "zh" else _EN_TEMPLATES
    lo, hi = _round50(length * 0.75), _round50(length * 1.25)
    sentence = templates[kind].format(L=length, lo=lo, hi=hi)
    sep = "" if lang == "zh" else " "
    rewritten = f"{text.rstrip()}{sep}{sentence}"
    constraint = make_constraint("range", lo=lo, hi=hi) if kind == "range" else make_constraint(kind, length)
    return rewritten, constraint


def augment(instructions: list[Instruction], *, per_instruction: int, kinds: list[str], lengths: list[int],
            keep_original: bool, seed: int) -> list[Instruction]:
    """Originals (if kept) plus up to `per_instruction` length-constrained rewrites of every
    instruction that states no length. Instructions that already state one are kept as they are."""
    if per_instruction <= 0:
        return list(instructions)
    out: list[Instruction] = []
    combos = [(k, n) for k in kinds for n in lengths]
    for ins in instructions:
        if ins.constraint is not None:
            out.append(ins)
            continue
        if keep_original:
            out.append(ins)
        digest = hashlib.sha256(f"{seed}\x00{ins.instruction}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        picks = rng.sample(combos, min(per_instruction, len(combos)))
        for kind, length in picks:
            text, constraint = with_constraint(ins.instruction, ins.lang, kind, length)
            out.append(Instruction(text, ins.lang, constraint.target_words, constraint, ins.source,
                                   dict(ins.meta), augmented_from=ins.instruction))
    return out
