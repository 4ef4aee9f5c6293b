"""No-repeat n-gram blocking at the token level, across calls: while decoding, a token that would
complete an n-gram already present in the given history texts (or, for prose, earlier in the same
reply) gets probability zero. A small model then cannot restate a sentence it wrote three sections
ago, nor loop inside a reply; it has to say something else.

Used by the embedded backend as a llama.cpp logits processor (called once per decoded token). In a
JSON reply only content repeats are blocked: a plan's second section may not reuse the first one's
title, but every section still needs `"title": "`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np

STRUCTURAL_CHARS = frozenset('"{}[]:,')
BAN_PENALTY = 1e4  # logits of banned tokens drop by this (a logit is rarely beyond +-50)


def is_structural(token_text: str) -> bool:
    """A JSON token that is not content: it holds a quote, bracket, colon or comma, or is blank."""
    return not token_text.strip() or any(c in STRUCTURAL_CHARS for c in token_text)

Table = dict[tuple[int, ...], set[int]]


def add_ngrams(table: Table, tokens: Sequence[int], n: int) -> None:
    """Record every n-gram of `tokens`: its first n-1 tokens map to the n-th."""
    for i in range(len(tokens) - n + 1):
        table.setdefault(tuple(tokens[i : i + n - 1]), set()).add(int(tokens[i + n - 1]))


class NgramBlocker:
    """A logits processor: bans the tokens that would repeat an n-gram of the history or of the reply.

    `prompt_len` tokens of `input_ids` are the prompt (never blocked from: a reply may reuse the
    instruction's words); tokens after it are the reply so far. `never` lists token ids that are
    never banned (end of text).
    """

    def __init__(self, n: int, history: Iterable[Sequence[int]], prompt_len: int, *, within_reply: bool = True,
                 never: Iterable[int] = (), structural: frozenset[int] | set[int] = frozenset()):
        if n < 2:
            raise ValueError(f"no_repeat_ngram must be at least 2, got {n}")
        self.n = n
        self.prompt_len = prompt_len
        self.within_reply = within_reply
        self.never = {int(t) for t in never}
        # For JSON replies: n-grams with a structural token (quotes, brackets, colons, commas, bare
        # whitespace) are not learnt from the reply, so keys and punctuation may recur, content not.
        self.structural = structural
        self.table: Table = {}
        for toks in history:
            add_ngrams(self.table, toks, n)
        self._seen = 0  # reply tokens already added to the table
        self.blocked = 0  # decoding steps at which at least one token was banned

    def banned(self, input_ids: Sequence[int]) -> set[int]:
        reply = input_ids[self.prompt_len :]
        if self.within_reply:
            # Add the reply's n-grams completed since the last step.
            start = max(0, self._seen - self.n + 1)
            if len(reply) - start >= self.n:
                toks = [int(t) for t in reply[start:]]
                if self.structural:
                    for i in range(len(toks) - self.n + 1):
                        gram = toks[i : i + self.n]
                        if not any(t in self.structural for t in gram):
                            self.table.setdefault(tuple(gram[:-1]), set()).add(gram[-1])
                else:
                    add_ngrams(self.table, toks, self.n)
            self._seen = len(reply)
        if len(input_ids) < self.n - 1:
            return set()
        key = tuple(int(t) for t in input_ids[len(input_ids) - self.n + 1 :])
        return self.table.get(key, set()) - self.never

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        ban = self.banned(input_ids)
        if ban:
            self.blocked += 1
            idx = list(ban)
            # A large finite penalty, not -inf: under a JSON grammar every token the grammar allows
            # may be banned, and llama.cpp aborts the process when it must sample from nothing. Then
            # the least bad allowed token still wins; otherwise a banned token never does.
            scores[idx] = scores[idx] - BAN_PENALTY
        return scores


@lru_cache(maxsize=512)
def _tokens_cached(tokenize: Callable[[str], tuple[int, ...]], text: str) -> tuple[int, ...]:
    return tokenize(text)


def history_tokens(tokenize: Callable[[str], tuple[int, ...]], texts: Iterable[str]) -> list[tuple[int, ...]]:
    """Token ids of each history text, paragraph by paragraph (a run's finished sections come back
    in every later call: their tokens are cached)."""
    out: list[tuple[int, ...]] = []
    for text in texts:
        for para in text.split("\n\n"):
            if para.strip():
                out.append(_tokens_cached(tokenize, para.strip()))
    return out
