"""Grammar-constrained sampling over a short list of candidates instead of the whole vocabulary.

llama.cpp's grammar sampler checks every candidate token against the grammar's state. In
llama-cpp-python's sampler chain it runs on the full vocabulary (49,152 tokens for SmolLM2): about
7 ms a token on one core, half again the cost of decoding the token. Here the candidates are first
cut to the `keep_top` most likely tokens plus a safety set: every single-byte token and the
end-of-generation tokens. The grammar then checks a few hundred tokens.

Why the grammar can always pick one: a grammar state that is not complete expects a next
character, and the first byte of any character is a single-byte token of a byte-level vocabulary;
a complete state accepts the end token. So the grammar never rejects every candidate (on which
llama.cpp aborts the process). Why the sample barely changes: the chain after the grammar keeps at
most `top_k` (40) tokens and only those within `min_p` (5%) of the best valid one; a valid token
ranked below `keep_top` (128) in the whole vocabulary clears that bar only when almost all of the
128 are invalid, and even then the output is still valid under the grammar.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from typing import Any

import llama_cpp
import numpy as np

KEEP_TOP = 128

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


def token_view(cur_p: Any) -> np.ndarray:
    """The llama_token_data_array behind `cur_p` as a numpy record array (shares memory)."""
    arr = cur_p.contents
    size = int(arr.size)
    buf = (llama_cpp.llama_token_data * size).from_address(ctypes.addressof(arr.data.contents))
    return np.frombuffer(buf, dtype=_TOKEN_DATA, count=size)


def cut_candidates(cur_p: Any, keep_top: int, always: np.ndarray) -> int:
    """Compact the candidates to the `keep_top` highest logits plus the token ids in `always`
    (sorted, unique); returns the new size. Nothing is cut when that would keep almost everything,
    or when the array is not in token-id order (the order llama.cpp fills it in)."""
    data = token_view(cur_p)
    size = len(data)
    if size <= keep_top + len(always) or data["id"][0] != 0 or data["id"][-1] != size - 1:
        return size
    top = np.argpartition(data["logit"], size - keep_top)[size - keep_top:]
    chosen = np.union1d(top, always[always < size])
    data[: len(chosen)] = data[chosen]
    arr = cur_p.contents
    arr.size = len(chosen)
    arr.sorted = False
    arr.selected = -1
    return len(chosen)


def safety_tokens(token_bytes: list[bytes], end_tokens: Iterable[int]) -> np.ndarray:
    """Token ids the grammar can always choose from: each single-byte token and the end tokens."""
    singles = [t for t, b in enumerate(token_bytes) if len(b) == 1]
    return np.unique(np.array(singles + list(end_tokens), dtype=np.intc))
