"""The evaluation's settings: what `longform eval` parses its flags into."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longform.llm import LLMConfig, RetryPolicy


@dataclass
class EvalConfig:
    benchmark: str = field(metadata={"help": "longbench-write, ruler, longen or constraints."})
    out: Path = field(metadata={"help": "Output folder: run folders, journal, report.md, scatter.png, results.jsonl."})
    methods: list[str] = field(default_factory=lambda: ["direct", "agentwrite"],
                               metadata={"help": "Writing methods by registry name, all given the same prompts."})
    models: list[str] = field(default_factory=lambda: ["embedded"], metadata={"help": "Model specs to generate with."})
    judge: str | None = field(default=None, metadata={"help": "Model spec of the quality judge (S_q); None skips S_q."})
    judge_base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible URL for the judge."})
    lang: str | None = field(default=None, metadata={"help": "Only prompts in this language (en or zh)."})
    lengths: list[int] | None = field(default=None, metadata={"help": "Only prompts asking for these lengths."})
    limit: int | None = field(default=None, metadata={"help": "At most this many prompts, spread over the strata."})
    data: str | None = field(default=None, metadata={"help": "The benchmark's JSONL file (default: the shared copy)."})
    seed: int = field(default=0, metadata={"help": "Base seed of every generation call."})
    parallel: int = field(default=1, metadata={"help": "Samples generated at once per model (remote endpoints)."})
    retry_failed: bool = field(default=False, metadata={"help": "Run again the samples that failed for good."})
    section_words: int | None = field(default=None, metadata={"help": "agentwrite: words per section."})
    given_requirements: bool = field(default=False, metadata={
        "help": "constraints: hand cogwriter the benchmark's requirements as JSON (default: every method sees the prompt only)."})
    base_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible URL for openai:/litellm: models."})
    n_ctx: int | None = field(default=None, metadata={"help": "Context window of the models."})
    threads: int | None = field(default=None, metadata={"help": "Embedded model CPU threads."})
    concurrency: int | None = field(default=None, metadata={"help": "Model calls in flight at once."})
    timeout_s: float = field(default=600.0, metadata={"help": "Seconds before one call is abandoned and retried."})
    retries: int = field(default=6, metadata={"help": "Attempts per call on transient faults."})
    cache: str | None = field(default=None, metadata={"help": "Request cache SQLite file (default: the user cache)."})
    no_cache: bool = field(default=False, metadata={"help": "Neither read nor write the request cache."})

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same eval (the same prompts and seeds); methods, models and the
        judge may be added to an existing eval folder."""
        ident = {"benchmark": self.benchmark, "lang": self.lang, "lengths": self.lengths, "limit": self.limit,
                 "seed": self.seed, "section_words": self.section_words}
        if self.given_requirements:
            ident["given_requirements"] = True
        return ident

    def llm_config(self, spec: str, call_log: Path | None, *, base_url: str | None = None) -> LLMConfig:
        return LLMConfig(model=spec, base_url=base_url if base_url is not None else self.base_url, n_ctx=self.n_ctx,
                         n_threads=self.threads, max_concurrency=self.concurrency, timeout_s=self.timeout_s,
                         cache_path=self.cache, no_cache=self.no_cache,
                         call_log_path=str(call_log) if call_log else None,
                         retry=RetryPolicy(max_attempts=self.retries))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.out)
        return d
