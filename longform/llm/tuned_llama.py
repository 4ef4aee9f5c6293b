"""`TunedLlama`: llama_cpp.Llama with two per-token costs of its generation loop removed.

1. The grammar's check of the whole vocabulary: a grammar-constrained call cuts the candidates
   before the grammar sees them (see longform.llm.grammar_cut): about 7 ms a token on one core.
2. Re-detokenizing the whole reply through one ctypes call per token at every step (the loop
   checks stop strings against the full text): quadratic, 0.4 s of a 650-token reply. Here each
   token's bytes are read once into a table and a reply is joined from it.

Everything else is llama-cpp-python's own code path (pinned version, see pyproject.toml).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals

from longform.llm.grammar_cut import KEEP_TOP, cut_candidates, token_view


class TunedLlama(llama_cpp.Llama):
    keep_top: int = KEEP_TOP
    grammar_safety: np.ndarray | None = None  # token ids the cut always keeps; None: no cut

    def token_pieces(self, special: bool = False) -> list[bytes]:
        """Each vocabulary token's bytes, as llama.cpp's token_to_piece gives them (read once)."""
        cache = self.__dict__.setdefault("_pieces", {})
        if special not in cache:
            vocab = self._model.vocab
            buf = ctypes.create_string_buffer(256)
            pieces = []
            for t in range(self.n_vocab()):
                n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(t), buf, 256, 0, special)
                pieces.append(buf.raw[: max(n, 0)])
            cache[special] = pieces
        return cache[special]

    def detokenize(self, tokens: Sequence[int], prev_tokens: Sequence[int] | None = None,
                   special: bool = False) -> bytes:
        """Same bytes as llama-cpp-python's detokenize, from the piece table."""
        pieces = self.token_pieces(special)
        out = b"".join([pieces[t] for t in tokens])
        if tokens and tokens[0] == self.token_bos() and out[:1] == b" ":
            out = out[1:]  # llama-cpp-python drops the space a Llama-1 tokenizer puts after BOS
        return out

    def _init_sampler(self, *args: Any, **kwargs: Any) -> internals.LlamaSampler:
        if args or kwargs.get("mirostat_mode", 0) != 0:
            return super()._init_sampler(*args, **kwargs)
        return self._chain(**kwargs)

    def _chain(self, *, top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05, typical_p: float = 1.0,
               temp: float = 0.80, repeat_penalty: float = 1.0, frequency_penalty: float = 0.0,
               presence_penalty: float = 0.0, logits_processor: Any = None, grammar: Any = None,
               **_unused: Any) -> internals.LlamaSampler:
        """llama-cpp-python 0.3.36's chain (processors, penalties, grammar, top-k, typical, top-p,
        min-p, temperature, draw), with the processors run on one numpy view of the logits and,
        for a grammar, the cut between the processors and the grammar."""
        sampler = internals.LlamaSampler()
        keep = self.grammar_safety if grammar is not None else None
        if logits_processor is not None or keep is not None:
            sampler.add_custom(self._processors_then_cut(logits_processor or [], keep))
        sampler.add_penalties(n_vocab=self._n_vocab, penalty_last_n=self.last_n_tokens_size,
                              penalty_repeat=repeat_penalty, penalty_freq=frequency_penalty,
                              penalty_present=presence_penalty)
        if grammar is not None:
            sampler.add_grammar(self._model, grammar)
        if temp < 0.0:
            sampler.add_dist(self._seed)
        elif temp == 0.0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(top_k)
            sampler.add_typical(typical_p, 1)
            sampler.add_top_p(top_p, 1)
            sampler.add_min_p(min_p, 1)
            sampler.add_temp(temp)
            sampler.add_dist(self._seed)
        return sampler

    def _processors_then_cut(self, processors: Sequence[Any], keep: np.ndarray | None) -> Callable[[Any], None]:
        def apply(cur_p: Any) -> None:
            if processors:
                logits = token_view(cur_p)["logit"]
                for processor in processors:
                    logits[:] = processor(self._input_ids, logits)
            if keep is not None:
                cut_candidates(cur_p, self.keep_top, keep)

        return apply
