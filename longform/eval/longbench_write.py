"""LongBench-Write (THUDM/LongWriter): 120 prompts (60 English, 60 Chinese), 100 to 20,000 words.
Scored by S_l against the stated length and, with a judge, S_q (six dimensions); S = (S_l + S_q) / 2.
Length buckets as in the LongWriter paper: <500, 500-2k, 2k-4k, >=4k words."""

from __future__ import annotations

from pathlib import Path

from longform.eval.samples import Sample, length_bucket, read_jsonl
from longform.text import detect_language

NAME = "longbench-write"
FILE = "longbench_write.jsonl"
GROUPS = (("length", "bucket"), ("language", "lang"), ("task type", "kind"))
_BUCKET_ORDER = {"<500": 0, "500-2k": 1, "2k-4k": 2, ">=4k": 3}


def load(path: Path) -> list[Sample]:
    out = []
    for i, row in enumerate(read_jsonl(path)):
        prompt, length = str(row["prompt"]), int(row["length"])
        lang = detect_language(prompt)
        out.append(Sample(id=f"lbw-{lang}-{i:03d}", benchmark=NAME, index=i, prompt=prompt, lang=lang,
                          required_words=length, target_words=length, bucket=length_bucket(length),
                          kind=str(row.get("type") or "") or None))
    return out


def strata(s: Sample) -> tuple:
    return (_BUCKET_ORDER[s.bucket], s.lang)
