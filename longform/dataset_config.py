"""The dataset job's configuration: dataclasses with a one-line help per field, read from YAML.

Every key is checked: an unknown key (a typo) is a UserError naming the key and the file, with the
closest valid key; a value of the wrong type names the key too. `configs/dataset/README.md`
documents every key; `longform dataset keys` prints the same help from these dataclasses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.config_io import apply_overrides, build, help_field, read_yaml
from longform.config_io import describe_keys as describe_dataclass_keys
from longform.errors import UserError
from longform.llm.redact import redact
from longform.pipelines import registry

CONSTRAINT_KINDS = ("about", "range", "at_least", "at_most")


@dataclass
class SourceConfig:
    """Where instructions come from."""

    path: str = help_field("configs/dataset/seed_instructions.jsonl",
                   "Instruction file: .jsonl, .parquet, or a local Hugging Face dataset directory.")
    field: str | None = help_field(None, "Column holding the instruction; default: the first of instruction, prompt, query.")
    limit: int | None = help_field(None, "Use only the first N instructions (after shuffling when shuffle_seed is set).")
    shuffle_seed: int | None = help_field(None, "Shuffle the instructions with this seed before `limit`; null keeps file order.")
    skip_invalid: bool = help_field(False, "Skip (and count) rows with no instruction instead of stopping with an error.")


@dataclass
class AugmentConfig:
    """Self-Lengthen length-constraint augmentation: rewrite an instruction to carry an explicit length."""

    per_instruction: int = help_field(0, "Length-constrained variants made from each instruction without a stated length.")
    kinds: list[str] = help_field(list(CONSTRAINT_KINDS), "Constraint kinds to draw from: about, range, at_least, at_most.")
    lengths: list[int] = help_field([500, 1000, 2000], "Word counts to draw the constraint length from.")
    keep_original: bool = help_field(True, "Also keep the unconstrained original instruction.")
    seed: int = help_field(0, "Seed of the (deterministic, per-instruction) choice of kind and length.")


@dataclass
class GenerationConfig:
    """How each instruction is written."""

    methods: list[str] = help_field(["agentwrite", "direct"],
                            "Pipelines that each write one candidate per sample: direct, agentwrite.")
    samples: int = help_field(1, "Candidates per method (seeds seed, seed+1, ...); more give more preference pairs.")
    seed: int = help_field(0, "Base seed of every candidate (part of the record id: a new seed is a new record).")
    default_target_words: int = help_field(1000, "Target length for an instruction that states no length.")
    min_target_words: int = help_field(50, "Instructions whose target is below this are dropped as `target_too_short`.")
    max_target_words: int = help_field(20000, "Instructions whose target is above this are dropped as `target_too_long`.")
    concurrency: int = help_field(2, "Records written at once (async workers); model calls are further limited by model.concurrency.")
    section_words: int | None = help_field(None, "agentwrite: words per planned section (null: the pipeline's default).")


@dataclass
class ModelSection:
    """The model every pipeline calls (same meaning as the --model/--base-url/... flags)."""

    model: str = help_field("embedded", "Model spec: embedded, openai:<m>, litellm:<p/m>, vllm:<path>.")
    base_url: str | None = help_field(None, "OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1.")
    n_ctx: int | None = help_field(None, "Context window in tokens (null: the backend's default, 8192 for embedded).")
    concurrency: int | None = help_field(None, "Model calls in flight at once (null: the backend's default).")
    threads: int | None = help_field(None, "embedded: CPU threads (null: the fastest count, measured while it runs, of the usable cores).")
    timeout_s: float = help_field(600.0, "Total seconds one call may take before it is abandoned and retried.")
    stall_timeout_s: float = help_field(60.0, "Seconds a remote call may go without receiving data before it is abandoned and retried.")
    retries: int = help_field(6, "Attempts per call on transient faults (429, 5xx, timeouts, dropped connections).")
    retry_max_elapsed_s: float = help_field(120.0, "Give up retrying one call after this many seconds.")
    cache_path: str | None = help_field(None, "SQLite request cache (null: ~/.cache/longform/requests.sqlite).")
    no_cache: bool = help_field(False, "Neither read nor write the request cache (a resumed job then pays again).")


@dataclass
class FilterConfig:
    """Quality filters; every drop is counted by reason in the dataset card."""

    min_length_score: float = help_field(80.0, "Keep outputs whose S_l (LongBench-Write length score) is at least this.")
    max_ngram_repetition: float = help_field(0.35, "Drop outputs whose fraction of repeated 4-grams exceeds this.")
    loop_check: bool = help_field(True, "Drop outputs with a degenerate loop (a window or sentence block that repeats).")
    require_clean_ending: bool = help_field(True, "Drop outputs that do not end with sentence-final punctuation.")
    check_language: bool = help_field(True, "Drop outputs whose language (en/zh) differs from the instruction's.")
    min_words: int = help_field(20, "Drop outputs shorter than this many words.")
    require_interval: bool = help_field(False, "Also drop outputs outside the constraint's LonGen interval (e.g. over L for `at most L`).")
    exact_dedup: bool = help_field(True, "Drop outputs whose normalised text equals an earlier record's.")
    near_dup_threshold: float | None = help_field(0.85, "MinHash Jaccard above which an output is a near duplicate; null disables.")
    minhash_num_perm: int = help_field(128, "MinHash permutations.")
    shingle_words: int = help_field(5, "Words per MinHash shingle.")
    min_pair_margin: float = help_field(0.0, "A preference pair also needs chosen S_l - rejected S_l >= this (the combined reward's "
                                     "margin is rewards.min_pair_margin; a rejected that fails a filter always pairs).")


@dataclass
class RewardsSection:
    """How candidates are ranked and paired: the combined reward of longform.reward_models.combined."""

    weights: dict[str, float] = help_field({"length": 1.0, "format": 1.0, "quality": 1.0, "rm": 1.0},
                                   "Weights of the reward components: length, format, quality (judge), rm.")
    length_cap: float = help_field(2.0, "The length reward falls linearly from 1 at the interval's top to 0 at length_cap x top.")
    judge: str | None = help_field(None, "Judge model spec for the quality reward (S_q); `same` = the job's model; null: no judge.")
    judge_base_url: str | None = help_field(None, "OpenAI-compatible server URL of the judge (null: model.base_url when judge is `same`).")
    rm: str | None = help_field(None, "Folder of a reward model trained by `longform train rm`; null: none.")
    injection_penalty: float = help_field(0.25, "Subtracted from the combined reward of a candidate that addresses its evaluator.")
    quality_injection_penalty: float = help_field(1.0, "Share of the judge's / RM's reward removed from such a candidate.")
    min_pair_margin: float = help_field(0.05, "A preference pair needs chosen combined reward - rejected >= this (or a rejected "
                                      "that fails a filter).")

    def reward_config(self, where: str = "rewards") -> Any:
        from longform.reward_models.combined import reward_config_from_dict

        return reward_config_from_dict({
            "weights": dict(self.weights), "length_cap": self.length_cap, "judge": self.judge, "rm": self.rm,
            "injection_penalty": self.injection_penalty, "quality_injection_penalty": self.quality_injection_penalty,
        }, where)


@dataclass
class OutputConfig:
    """Where and how the dataset is written."""

    dir: str = help_field("datasets_out", "Parent folder; the dataset goes to <dir>/<name>/.")
    part_rows: int = help_field(8, "Records buffered per journaled Parquet part (1: journal after every record).")
    flush_interval_s: float = help_field(60.0, "Also write a part when the oldest buffered record is this old.")
    histogram_bins: int = help_field(20, "Bins of the length histograms in the card.")


@dataclass
class DatasetConfig:
    """A dataset job."""

    name: str = help_field("longform-dataset", "Dataset name: the output folder <output.dir>/<name>/ and the card title.")
    description: str = help_field("", "Free text for the dataset card.")
    source: SourceConfig = help_field(None, "Instruction source.", )
    augment: AugmentConfig = help_field(None, "Length-constraint augmentation (Self-Lengthen).")
    generation: GenerationConfig = help_field(None, "Methods, samples, seeds and targets.")
    model: ModelSection = help_field(None, "The model.")
    filters: FilterConfig = help_field(None, "Quality filters.")
    rewards: RewardsSection = help_field(None, "Reward ranking of candidates and preference pairs.")
    output: OutputConfig = help_field(None, "Output folder and part size.")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) is None and f.name in _SECTIONS:
                setattr(self, f.name, _SECTIONS[f.name]())

    def to_dict(self) -> dict[str, Any]:
        """The config as recorded in job.json and the dataset card: credentials in URLs redacted."""
        return redact(dataclasses.asdict(self))

    def generation_key(self) -> dict[str, Any]:
        """What decides a record's text: part of every record id (output paths and filters are not)."""
        g = self.generation
        key: dict[str, Any] = {
            "methods": list(g.methods), "samples": g.samples, "seed": g.seed, "model": self.model.model,
            "section_words": g.section_words,
        }
        for name in ("judge", "rm"):  # their verdicts are stored with each record
            if getattr(self.rewards, name):
                key[name] = getattr(self.rewards, name)
        return key

    def generation_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.generation_key(), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def dataset_dir(self) -> Path:
        return Path(self.output.dir) / self.name


_SECTIONS: dict[str, type] = {
    "source": SourceConfig, "augment": AugmentConfig, "generation": GenerationConfig,
    "model": ModelSection, "filters": FilterConfig, "output": OutputConfig, "rewards": RewardsSection,
}


def validate(cfg: DatasetConfig, where: str) -> DatasetConfig:
    g, a, f, o = cfg.generation, cfg.augment, cfg.filters, cfg.output

    def bad(key: str, msg: str) -> UserError:
        return UserError(f"{where}: key `{key}` {msg}")

    if not cfg.name or "/" in cfg.name or cfg.name in (".", ".."):
        raise bad("name", f"must be a plain folder name, got {cfg.name!r}")
    if not g.methods:
        raise bad("generation.methods", "must name at least one method")
    for m in g.methods:
        if m not in registry.METHODS:
            raise bad("generation.methods", f"has unknown method {m!r}; valid: {', '.join(registry.METHODS)}")
    if len(set(g.methods)) != len(g.methods):
        raise bad("generation.methods", "lists a method twice; use generation.samples for several samples")
    for key, value, lo in (("generation.samples", g.samples, 1), ("generation.concurrency", g.concurrency, 1),
                           ("generation.default_target_words", g.default_target_words, 1),
                           ("output.part_rows", o.part_rows, 1), ("augment.per_instruction", a.per_instruction, 0),
                           ("filters.minhash_num_perm", f.minhash_num_perm, 16), ("filters.shingle_words", f.shingle_words, 1),
                           ("output.histogram_bins", o.histogram_bins, 1)):
        if value < lo:
            raise bad(key, f"must be at least {lo}, got {value}")
    for k in a.kinds:
        if k not in CONSTRAINT_KINDS:
            raise bad("augment.kinds", f"has unknown kind {k!r}; valid: {', '.join(CONSTRAINT_KINDS)}")
    if a.per_instruction and (not a.kinds or not a.lengths):
        raise bad("augment", "needs non-empty `kinds` and `lengths` when per_instruction > 0")
    if any(n <= 0 for n in a.lengths):
        raise bad("augment.lengths", "must be positive word counts")
    if f.near_dup_threshold is not None and not 0 < f.near_dup_threshold <= 1:
        raise bad("filters.near_dup_threshold", f"must be in (0, 1], got {f.near_dup_threshold}")
    if not 0 <= f.min_length_score <= 100:
        raise bad("filters.min_length_score", f"must be in [0, 100], got {f.min_length_score}")
    if cfg.model.retries < 1:
        raise bad("model.retries", f"must be at least 1, got {cfg.model.retries}")
    if cfg.source.limit is not None and cfg.source.limit < 1:
        raise bad("source.limit", f"must be at least 1 (or null for every instruction), got {cfg.source.limit}")
    for key, value in (("model.timeout_s", cfg.model.timeout_s), ("model.stall_timeout_s", cfg.model.stall_timeout_s),
                       ("model.retry_max_elapsed_s", cfg.model.retry_max_elapsed_s)):
        if not value > 0:
            raise bad(key, f"must be a positive number of seconds, got {value}")
    if cfg.model.concurrency is not None and cfg.model.concurrency < 1:
        raise bad("model.concurrency", f"must be at least 1 (or null for the backend's default), got {cfg.model.concurrency}")
    for key, path in (("output.dir", Path(cfg.output.dir)), ("output.dir/name", cfg.dataset_dir)):
        if path.exists() and not path.is_dir():
            raise bad(key, f"points at {path}, which is a file, not a folder; choose another output.dir or name")
    cfg.rewards.reward_config(f"{where}: rewards")
    if cfg.rewards.judge not in (None, "same"):
        from longform.llm.spec import parse_spec

        try:
            parse_spec(cfg.rewards.judge)
        except UserError as exc:
            raise bad("rewards.judge", f"is not a model spec ({exc}); or use `same` for the job's model") from None
    if cfg.rewards.rm and not Path(cfg.rewards.rm).is_dir():
        raise bad("rewards.rm", f"names no reward-model folder ({cfg.rewards.rm}); train one with `longform train rm` or set null")
    if cfg.rewards.min_pair_margin < 0:
        raise bad("rewards.min_pair_margin", f"must be >= 0, got {cfg.rewards.min_pair_margin}")
    return cfg


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> DatasetConfig:
    """Read and check a YAML config. `overrides` maps dotted keys (e.g. "model.model") to values."""
    data = read_yaml(path, example="configs/dataset/default.yaml (every key: configs/dataset/README.md)")
    return from_dict(apply_overrides(data, overrides), str(path))


def from_dict(data: dict[str, Any], where: str = "<config>") -> DatasetConfig:
    return validate(build(DatasetConfig, data, where), where)


def describe_keys() -> str:
    """Every key with its default and help, for `longform dataset keys` and the README."""
    return describe_dataclass_keys(DatasetConfig)
