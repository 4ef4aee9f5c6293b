"""The dataset job's configuration: dataclasses with a one-line help per field, read from YAML.

Every key is checked: an unknown key (a typo) is a UserError naming the key and the file, with the
closest valid key; a value of the wrong type names the key too. `configs/dataset/README.md`
documents every key; `longform dataset keys` prints the same help from these dataclasses.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from longform.errors import UserError
from longform.llm.redact import redact
from longform.pipelines import registry

CONSTRAINT_KINDS = ("about", "range", "at_least", "at_most")


def _f(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class SourceConfig:
    """Where instructions come from."""

    path: str = _f("configs/dataset/seed_instructions.jsonl",
                   "Instruction file: .jsonl, .parquet, or a local Hugging Face dataset directory.")
    field: str | None = _f(None, "Column holding the instruction; default: the first of instruction, prompt, query.")
    limit: int | None = _f(None, "Use only the first N instructions (after shuffling when shuffle_seed is set).")
    shuffle_seed: int | None = _f(None, "Shuffle the instructions with this seed before `limit`; null keeps file order.")
    skip_invalid: bool = _f(False, "Skip (and count) rows with no instruction instead of stopping with an error.")


@dataclass
class AugmentConfig:
    """Self-Lengthen length-constraint augmentation: rewrite an instruction to carry an explicit length."""

    per_instruction: int = _f(0, "Length-constrained variants made from each instruction without a stated length.")
    kinds: list[str] = _f(list(CONSTRAINT_KINDS), "Constraint kinds to draw from: about, range, at_least, at_most.")
    lengths: list[int] = _f([500, 1000, 2000], "Word counts to draw the constraint length from.")
    keep_original: bool = _f(True, "Also keep the unconstrained original instruction.")
    seed: int = _f(0, "Seed of the (deterministic, per-instruction) choice of kind and length.")


@dataclass
class GenerationConfig:
    """How each instruction is written."""

    methods: list[str] = _f(["agentwrite", "direct"],
                            "Pipelines that each write one candidate per sample: direct, agentwrite.")
    samples: int = _f(1, "Candidates per method (seeds seed, seed+1, ...); more give more preference pairs.")
    seed: int = _f(0, "Base seed of every candidate (part of the record id: a new seed is a new record).")
    default_target_words: int = _f(1000, "Target length for an instruction that states no length.")
    min_target_words: int = _f(50, "Instructions whose target is below this are dropped as `target_too_short`.")
    max_target_words: int = _f(20000, "Instructions whose target is above this are dropped as `target_too_long`.")
    concurrency: int = _f(2, "Records written at once (async workers); model calls are further limited by model.concurrency.")
    section_words: int | None = _f(None, "agentwrite: words per planned section (null: the pipeline's default).")


@dataclass
class ModelSection:
    """The model every pipeline calls (same meaning as the --model/--base-url/... flags)."""

    model: str = _f("embedded", "Model spec: embedded, openai:<m>, litellm:<p/m>, vllm:<path>.")
    base_url: str | None = _f(None, "OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1.")
    n_ctx: int | None = _f(None, "Context window in tokens (null: the backend's default, 8192 for embedded).")
    concurrency: int | None = _f(None, "Model calls in flight at once (null: the backend's default).")
    threads: int | None = _f(None, "embedded: CPU threads (null: the fastest count, measured while it runs, of the usable cores).")
    timeout_s: float = _f(600.0, "Total seconds one call may take before it is abandoned and retried.")
    stall_timeout_s: float = _f(60.0, "Seconds a remote call may go without receiving data before it is abandoned and retried.")
    retries: int = _f(6, "Attempts per call on transient faults (429, 5xx, timeouts, dropped connections).")
    retry_max_elapsed_s: float = _f(120.0, "Give up retrying one call after this many seconds.")
    cache_path: str | None = _f(None, "SQLite request cache (null: ~/.cache/longform/requests.sqlite).")
    no_cache: bool = _f(False, "Neither read nor write the request cache (a resumed job then pays again).")


@dataclass
class FilterConfig:
    """Quality filters; every drop is counted by reason in the dataset card."""

    min_length_score: float = _f(80.0, "Keep outputs whose S_l (LongBench-Write length score) is at least this.")
    max_ngram_repetition: float = _f(0.35, "Drop outputs whose fraction of repeated 4-grams exceeds this.")
    loop_check: bool = _f(True, "Drop outputs with a degenerate loop (a window or sentence block that repeats).")
    require_clean_ending: bool = _f(True, "Drop outputs that do not end with sentence-final punctuation.")
    check_language: bool = _f(True, "Drop outputs whose language (en/zh) differs from the instruction's.")
    min_words: int = _f(20, "Drop outputs shorter than this many words.")
    require_interval: bool = _f(False, "Also drop outputs outside the constraint's LonGen interval (e.g. over L for `at most L`).")
    exact_dedup: bool = _f(True, "Drop outputs whose normalised text equals an earlier record's.")
    near_dup_threshold: float | None = _f(0.85, "MinHash Jaccard above which an output is a near duplicate; null disables.")
    minhash_num_perm: int = _f(128, "MinHash permutations.")
    shingle_words: int = _f(5, "Words per MinHash shingle.")
    min_pair_margin: float = _f(0.0, "A preference pair also needs chosen S_l - rejected S_l >= this (the combined reward's "
                                     "margin is rewards.min_pair_margin; a rejected that fails a filter always pairs).")


@dataclass
class RewardsSection:
    """How candidates are ranked and paired: the combined reward of longform.reward_models.combined."""

    weights: dict[str, float] = _f({"length": 1.0, "format": 1.0, "quality": 1.0, "rm": 1.0},
                                   "Weights of the reward components: length, format, quality (judge), rm.")
    length_cap: float = _f(2.0, "The length reward falls linearly from 1 at the interval's top to 0 at length_cap x top.")
    judge: str | None = _f(None, "Judge model spec for the quality reward (S_q); `same` = the job's model; null: no judge.")
    judge_base_url: str | None = _f(None, "OpenAI-compatible server URL of the judge (null: model.base_url when judge is `same`).")
    rm: str | None = _f(None, "Folder of a reward model trained by `longform train rm`; null: none.")
    injection_penalty: float = _f(0.25, "Subtracted from the combined reward of a candidate that addresses its evaluator.")
    quality_injection_penalty: float = _f(1.0, "Share of the judge's / RM's reward removed from such a candidate.")
    min_pair_margin: float = _f(0.05, "A preference pair needs chosen combined reward - rejected >= this (or a rejected "
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

    dir: str = _f("datasets_out", "Parent folder; the dataset goes to <dir>/<name>/.")
    part_rows: int = _f(8, "Records buffered per journaled Parquet part (1: journal after every record).")
    flush_interval_s: float = _f(60.0, "Also write a part when the oldest buffered record is this old.")
    histogram_bins: int = _f(20, "Bins of the length histograms in the card.")


@dataclass
class DatasetConfig:
    """A dataset job."""

    name: str = _f("longform-dataset", "Dataset name: the output folder <output.dir>/<name>/ and the card title.")
    description: str = _f("", "Free text for the dataset card.")
    source: SourceConfig = _f(None, "Instruction source.", )
    augment: AugmentConfig = _f(None, "Length-constraint augmentation (Self-Lengthen).")
    generation: GenerationConfig = _f(None, "Methods, samples, seeds and targets.")
    model: ModelSection = _f(None, "The model.")
    filters: FilterConfig = _f(None, "Quality filters.")
    rewards: RewardsSection = _f(None, "Reward ranking of candidates and preference pairs.")
    output: OutputConfig = _f(None, "Output folder and part size.")

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


def _type_ok(value: Any, hint: Any) -> bool:
    origin = get_origin(hint)
    args = get_args(hint)
    if hint is Any:
        return True
    if origin is None:
        if hint is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if hint is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, hint)
    if origin is list:
        return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_type_ok(k, args[0]) and _type_ok(v, args[1]) for k, v in value.items())
    # Optional / Union
    return any(_type_ok(value, a) if a is not type(None) else value is None for a in args)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _build(cls: type, data: Any, where: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise UserError(f"{where}: `{prefix.rstrip('.') or 'the file'}` must be a mapping of keys, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean `{prefix}{close[0]}`?)" if close else ""
            raise UserError(
                f"{where}: unknown key `{full}`{hint}; valid keys{' of ' + prefix.rstrip('.') if prefix else ''}: "
                f"{', '.join(names)}"
            )
        if key in _SECTIONS and cls is DatasetConfig:
            kwargs[key] = _build(_SECTIONS[key], value if value is not None else {}, where, f"{full}.")
            continue
        if not _type_ok(value, hints[key]):
            raise UserError(f"{where}: key `{full}` must be {_type_name(hints[key])}, got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


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
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config file {p} does not exist; pass --config configs/dataset/<name>.yaml") from None
    except OSError as exc:
        raise UserError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f": line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}{at}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        raise UserError(f"{p} is empty; a dataset job needs at least a `name` and a `source` "
                        "(see configs/dataset/default.yaml and configs/dataset/README.md)")
    if not isinstance(data, dict):
        raise UserError(f"{p}: the top level must be a mapping of keys, got {type(data).__name__}")
    for dotted, value in (overrides or {}).items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}) or {}
        node[parts[-1]] = value
    return validate(_build(DatasetConfig, data, str(p), ""), str(p))


def from_dict(data: dict[str, Any], where: str = "<config>") -> DatasetConfig:
    return validate(_build(DatasetConfig, data, where, ""), where)


def describe_keys() -> str:
    """Every key with its default and help, for `longform dataset keys` and the README."""
    lines: list[str] = []
    for f in dataclasses.fields(DatasetConfig):
        if f.name in _SECTIONS:
            lines.append(f"{f.name}:  # {f.metadata['help']}")
            for g in dataclasses.fields(_SECTIONS[f.name]):
                default = g.default_factory() if g.default_factory is not dataclasses.MISSING else g.default  # type: ignore[misc]
                lines.append(f"  {g.name}: {json.dumps(default, ensure_ascii=False)}  # {g.metadata['help']}")
        else:
            lines.append(f"{f.name}: {json.dumps(f.default, ensure_ascii=False)}  # {f.metadata['help']}")
    return "\n".join(lines)
