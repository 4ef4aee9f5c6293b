"""LonGen (QwenLM/Self-Lengthen): 240 prompts (120 English, 120 Chinese), 2k-8k words, each with a
length constraint: about L ([0.8L, 1.2L]), above L ([L, 1.5L]), below L ([0.5L, L]) or a stated
range. Scored by the LonGen interval score (1 inside the interval, falling linearly outside).

The writer is asked for the middle of the interval; S_l is reported against that same length."""

from __future__ import annotations

from pathlib import Path

from longform.eval.samples import Sample, read_jsonl
from longform.scores import interval_for_record

NAME = "longen"
FILE = "longen.jsonl"
GROUPS = (("length", "bucket"), ("language", "lang"), ("constraint type", "kind"))


def load(path: Path) -> list[Sample]:
    out = []
    for i, row in enumerate(read_jsonl(path)):
        lo, hi = interval_for_record(row)
        middle = round((lo + hi) / 2)
        lang = str(row["language"])
        out.append(Sample(id=f"longen-{lang}-{i:03d}", benchmark=NAME, index=i, prompt=str(row["query"]), lang=lang,
                          required_words=middle, target_words=middle, bucket=str(row["range"]),
                          kind=str(row["type"]), interval=(lo, hi), extra={"constraint": row["constraint"]}))
    return out


def strata(s: Sample) -> tuple:
    return (s.bucket, s.lang, s.kind)
