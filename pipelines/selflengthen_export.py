"""The extender's training split of a dataset job (`ext_sft/`), written when the job ran `selflengthen`.

As the original's `mk_ext_sft`: the expand prompt over the generator's first response with about a
fifth of its lines dropped -> the extended text. A row comes from every `selflengthen` candidate of
a kept record that passed the filters and is longer than its first response. Rows are TRL's
conversational SFT format (`messages`), so `longform train sft --set split=ext_sft` trains an
extender on them. The line dropping is seeded by the record id: a rerun writes the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from longform.agents import extender as ext

from longform.text import count_words

SPLIT = "ext_sft"
METHOD = "selflengthen"
KEEP_LINES = 0.8


def extender_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in records:
        if rec.get("status") != "kept":
            continue
        for cand in rec.get("candidates") or []:
            first = (cand.get("plan_meta") or {}).get("first_response") or ""
            if cand.get("method") != METHOD or not (cand.get("check") or {}).get("passed"):
                continue
            if not first.strip() or cand["words"] <= count_words(first):
                continue
            rows.append({
                "id": f"{rec['id']}-{cand['seed']}",
                "messages": ext.training_messages(rec["instruction"], first, cand["text"], rec["lang"],
                                                  seed=int(rec["id"][:8], 16) + int(cand["seed"]), keep=KEEP_LINES),
                "lang": rec["lang"], "target_words": rec["target_words"], "first_words": count_words(first),
                "words": cand["words"],
            })
    return rows


def write_split(out_dir: Path, records: list[dict[str, Any]]) -> int:
    """Write OUT/ext_sft/ (swapped in whole) when the job has selflengthen candidates; the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from longform.shard_store import replace_dir

    rows = extender_rows(records)
    if not rows and not any(c.get("method") == METHOD for r in records for c in r.get("candidates") or []):
        return 0
    msg = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    schema = pa.schema([("id", pa.string()), ("messages", msg), ("lang", pa.string()), ("target_words", pa.int64()),
                        ("first_words", pa.int64()), ("words", pa.int64())])

    def build(tmp: Path) -> None:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp / "train-00000-of-00001.parquet",
                       compression="zstd")

    replace_dir(Path(out_dir) / SPLIT, build)
    return len(rows)
