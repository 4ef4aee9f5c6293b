"""Token lengths of training examples, measured before training, and the overlong policy.

TRL's trainers cut every sequence longer than `max_length` without a word; a 10k-word answer is
15-20k tokens, so a default of 1024 would train on the first few paragraphs of every answer. Here
each example is tokenized with the model's chat template first; the ones over `max_length` are
reported and either refused (the default) or dropped with their count recorded. The trainers then
run with truncation off, so nothing is cut after this check either.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from longform.errors import UserError


@dataclass
class LengthReport:
    examples: int
    max_length: int
    overlong: int
    dropped: int
    longest: int
    mean: float
    p50: int
    p95: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def chat_tokens(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool = False) -> int:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt)
    if hasattr(ids, "keys"):  # BatchEncoding in transformers 5
        ids = ids["input_ids"]
    return len(ids)


def enforce(rows: list[dict[str, Any]], measure: Callable[[dict[str, Any]], int], max_length: int, policy: str,
            where: str, log: Callable[[str], None] | None = None) -> tuple[list[dict[str, Any]], LengthReport]:
    """Keep the rows that fit; refuse (UserError) or drop the others according to `policy`."""
    log = log or (lambda m: print(m, file=sys.stderr))
    lengths = [measure(r) for r in rows]
    over = [i for i, n in enumerate(lengths) if n > max_length]
    srt = sorted(lengths)
    report = LengthReport(
        examples=len(rows), max_length=max_length, overlong=len(over), dropped=0, longest=srt[-1],
        mean=round(statistics.fmean(lengths), 1), p50=srt[len(srt) // 2], p95=srt[min(len(srt) - 1, int(len(srt) * 0.95))],
    )
    log(f"lengths: {len(rows)} examples, tokens mean {report.mean}, median {report.p50}, p95 {report.p95}, "
        f"longest {report.longest}; max_length {max_length}: {len(over)} longer")
    if not over:
        return rows, report
    if policy == "refuse":
        raise UserError(f"{where}: {len(over)} of {len(rows)} examples are longer than max_length={max_length} tokens "
                        f"(longest {report.longest}); raise max_length to {report.longest} or set overlong=drop "
                        "to train without them (nothing is ever cut)")
    keep = [r for i, r in enumerate(rows) if lengths[i] <= max_length]
    if not keep:
        raise UserError(f"{where}: all {len(rows)} examples are longer than max_length={max_length} tokens; "
                        f"raise max_length (longest {report.longest})")
    report.dropped = len(over)
    log(f"lengths: dropped {len(over)} of {len(rows)} examples longer than {max_length} tokens (overlong=drop)")
    return keep, report
