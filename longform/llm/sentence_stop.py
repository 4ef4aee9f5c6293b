"""A reply that ends at a sentence end once it is long enough: after `after_tokens` decoded tokens,
the first token that closes a sentence is followed by the end of the reply.

Used by the embedded backend as a llama.cpp logits processor (called once per decoded token). A
writer that sizes a reply by max_tokens alone gets it cut mid-sentence: the unfinished sentence is
decoded, then thrown away. Stopped here, the reply ends on a whole sentence just past the words it
needs, and max_tokens is only the bound on a sentence that never ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from longform.llm.ngram_block import BAN_PENALTY
from longform.text import ends_cleanly

_NUMBERING = re.compile(r"\d[\d.]*\.\s*$")  # "1." "2.3.": a list number, not a sentence's end


def ends_sentence(token_text: str) -> bool:
    """True for a token whose text closes a sentence ("." "?\"" "。" ".)" ".**"), not for a list number."""
    return bool(token_text.strip()) and ends_cleanly(token_text) and not _NUMBERING.search(token_text)


class SentenceEndStop:
    """A logits processor: once the reply (tokens after `prompt_len`) has `after_tokens` tokens and
    its last token closes a sentence, the `end_token` is made certain."""

    def __init__(self, after_tokens: int, prompt_len: int, sentence_end_tokens: Iterable[int], end_token: int):
        self.after_tokens = after_tokens
        self.prompt_len = prompt_len
        self.sentence_end = frozenset(int(t) for t in sentence_end_tokens)
        self.end_token = int(end_token)
        self.stopped = False

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        n = len(input_ids) - self.prompt_len
        if n >= self.after_tokens and n > 0 and int(input_ids[-1]) in self.sentence_end:
            self.stopped = True
            scores[self.end_token] = scores.max() + BAN_PENALTY
        return scores
