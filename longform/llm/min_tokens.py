"""A reply that may not end early: while fewer than `min_tokens` tokens are decoded, the tokens that
end a reply or open a new turn (the model's control tokens) get probability zero.

Used by the embedded backend as a llama.cpp logits processor (called once per decoded token), where
vLLM has `SamplingParams.min_tokens`. A writer that asks for 400 words and gets 60 then pays a whole
second call (its prompt read again) to continue; one that cannot stop before its share goes on in
the same call, with the whole reply so far in view.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from longform.llm.ngram_block import BAN_PENALTY  # finite: a grammar that allows nothing else still samples


class EndBlocker:
    """A logits processor: bans `end_tokens` until the reply (tokens after `prompt_len`) has
    `min_tokens` tokens."""

    def __init__(self, min_tokens: int, prompt_len: int, end_tokens: Iterable[int]):
        self.min_tokens = min_tokens
        self.prompt_len = prompt_len
        self.end_tokens = sorted({int(t) for t in end_tokens})
        self.blocked = 0  # decoding steps at which the end was banned

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if len(input_ids) - self.prompt_len < self.min_tokens:
            self.blocked += 1
            scores[self.end_tokens] = scores[self.end_tokens] - BAN_PENALTY
        return scores
