"""LongWrite-Ruler (THUDM/LongWriter): 48 prompts asking for 1k, 2k, 5k, 10k, 20k or 30k words, four
English and four Chinese per length. Scored by S_l against the stated length."""

from __future__ import annotations

from pathlib import Path

from longform.eval.samples import Sample, read_jsonl, short_length
from longform.text import detect_language

NAME = "ruler"
FILE = "longwrite_ruler.jsonl"
GROUPS = (("length", "bucket"), ("language", "lang"))


def load(path: Path) -> list[Sample]:
    out = []
    for i, row in enumerate(read_jsonl(path)):
        prompt, length = str(row["prompt"]), int(row["length"])
        lang = detect_language(prompt)
        out.append(Sample(id=f"ruler-{lang}-{length}-{i:02d}", benchmark=NAME, index=i, prompt=prompt, lang=lang,
                          required_words=length, target_words=length, bucket=short_length(length),
                          kind=str(row.get("type") or "") or None))
    return out


def strata(s: Sample) -> tuple:
    return (s.required_words, s.lang)
