"""Quality filters for generated long outputs; each check returns a drop reason or None.

Per output (`check_output`), in this order (the first failing reason is the record's reason; all
failing reasons are kept in `raw`):
- `empty` / `too_short`: fewer than `min_words` words;
- `length_score`: S_l (LongBench-Write) below `min_length_score` against the instruction's explicit
  length (or the job's target when it states none), as in "Minimum Tuning to Unlock Long Output";
- `repetition`: a degenerate loop (`has_degenerate_loop`) or a repeated-4-gram share above the cap;
- `truncated`: the text does not end with sentence-final punctuation, or generation hit the token limit
  without a clean end;
- `wrong_language`: the output's language (en/zh) differs from the instruction's;
- `outside_interval` (only with `require_interval`): the length is outside the constraint's LonGen
  interval (about [0.8L, 1.2L], at least [L, 1.5L], at most [0.5L, L], range as stated).

Across records (`Deduplicator`, fed in record-id order so the result does not depend on the order
records finished): `exact_duplicate` (same normalised text) and `near_duplicate` (MinHash LSH
Jaccard estimate above a threshold).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from longform.dataset_config import FilterConfig
from longform.scores import length_score, longen_score
from longform.text import (
    count_words,
    detect_language,
    ends_cleanly,
    has_degenerate_loop,
    ngram_repetition,
    words,
)

REASONS = (
    "too_short", "length_score", "outside_interval", "repetition", "truncated", "wrong_language",
    "exact_duplicate", "near_duplicate",
)


@dataclass
class OutputCheck:
    words: int
    length_score: float
    repetition: float
    loop: bool
    clean_end: bool
    lang: str
    reasons: list[str]
    longen_score: float | None = None

    @property
    def passed(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "words": self.words, "length_score": round(self.length_score, 2), "repetition": round(self.repetition, 4),
            "loop": self.loop, "clean_end": self.clean_end, "lang": self.lang, "reasons": list(self.reasons),
            "longen_score": None if self.longen_score is None else round(self.longen_score, 4),
        }


def check_output(text: str, *, required_words: int, lang: str, cfg: FilterConfig,
                 finish_reason: str | None = None, interval: tuple[float, float] | None = None) -> OutputCheck:
    """Score one output against its instruction and list every filter it fails."""
    n = count_words(text)
    sl = length_score(max(1, required_words), n)
    rep = ngram_repetition(text, 4)
    loop = has_degenerate_loop(text) if (cfg.loop_check and n) else False
    clean = ends_cleanly(text)
    out_lang = detect_language(text) if n else lang
    reasons: list[str] = []
    if n < max(1, cfg.min_words):
        reasons.append("too_short")
    if sl < cfg.min_length_score:
        reasons.append("length_score")
    lg = longen_score(n, interval[0], interval[1]) if interval else None
    if cfg.require_interval and interval and not interval[0] <= n <= interval[1]:
        reasons.append("outside_interval")
    if loop or rep > cfg.max_ngram_repetition:
        reasons.append("repetition")
    if cfg.require_clean_ending and n and (not clean or (finish_reason == "length" and not clean)):
        reasons.append("truncated")
    if cfg.check_language and n and out_lang != lang:
        reasons.append("wrong_language")
    return OutputCheck(n, sl, rep, loop, clean, out_lang, reasons, lg)


def normalise(text: str) -> str:
    """Lower-cased word tokens joined by single spaces: the text compared for exact duplicates."""
    return " ".join(w.lower() for w in words(text))


def _shingles(text: str, k: int) -> set[bytes]:
    toks = [w.lower() for w in words(text)]
    if len(toks) <= k:
        return {" ".join(toks).encode()} if toks else set()
    return {" ".join(toks[i : i + k]).encode() for i in range(len(toks) - k + 1)}


class Deduplicator:
    """Exact and MinHash near-duplicate detection over a stream of texts (first one seen is kept)."""

    def __init__(self, cfg: FilterConfig):
        self.cfg = cfg
        self._exact: dict[str, str] = {}
        self._lsh = None
        self._hashes: dict[str, Any] = {}
        if cfg.near_dup_threshold is not None:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=cfg.near_dup_threshold, num_perm=cfg.minhash_num_perm)

    def _minhash(self, text: str) -> Any:
        from datasketch import MinHash

        m = MinHash(num_perm=self.cfg.minhash_num_perm, seed=1)
        for s in _shingles(text, self.cfg.shingle_words):
            m.update(s)
        return m

    def check(self, key: str, text: str) -> tuple[str | None, str | None]:
        """(reason, id of the earlier record it duplicates) or (None, None); remembers kept texts."""
        norm = normalise(text)
        digest = hashlib.sha256(norm.encode()).hexdigest()
        if self.cfg.exact_dedup and digest in self._exact:
            return "exact_duplicate", self._exact[digest]
        mh = None
        if self._lsh is not None and norm:
            mh = self._minhash(text)
            for other in self._lsh.query(mh):
                # LSH gives candidates; confirm with the MinHash Jaccard estimate.
                if mh.jaccard(self._hashes[other]) >= self.cfg.near_dup_threshold:
                    return "near_duplicate", other
        self._exact.setdefault(digest, key)
        if mh is not None:
            self._lsh.insert(key, mh)
            self._hashes[key] = mh
        return None, None

