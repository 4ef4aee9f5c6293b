"""The iterate loop's configuration: dataclasses with a one-line help per field, read from YAML.

Every key is checked: an unknown key names itself, the closest valid key and the file; a value of
the wrong type names the key. Model specs and files are checked here, before any heavy work: a
`transformers:PATH` or `embedded:PATH` that does not exist, or a seed file that is missing, stops
the run with one line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform import config_io
from longform.config_io import help_field as _f
from longform.errors import UserError
from longform.llm.redact import redact


@dataclass
class ModelsSection:
    """The models of iteration 1 (later iterations use the checkpoints the loop trains)."""

    generator: str = _f("embedded", "Iteration 1's generator: a model spec (embedded, transformers:PATH, vllm:PATH, openai:M).")
    extender: str = _f("embedded", "Iteration 1's extender: a model spec.")
    instructor: str | None = _f(None, "Model that self-instructs and judges instructions (null: the base generator, every iteration).")
    checkpoint_backend: str = _f("transformers", "How later iterations load the trained checkpoints: transformers (any machine) or vllm (GPU).")
    base_url: str | None = _f(None, "OpenAI-compatible server URL for openai:/litellm: specs.")
    n_ctx: int | None = _f(None, "Context window in tokens (null: the backend's default).")
    threads: int | None = _f(None, "CPU threads of the embedded / transformers model (null: all cores).")
    concurrency: int | None = _f(None, "Model calls in flight at once (null: the backend's default).")
    timeout_s: float = _f(600.0, "Seconds before one call is abandoned and retried.")
    cache_path: str | None = _f(None, "SQLite request cache (null: OUT/cache.sqlite, so a resumed step never pays twice).")
    no_cache: bool = _f(False, "Neither read nor write the request cache.")


@dataclass
class SelfInstructSection:
    """Step 1: new instructions from the seeds (as the original: two seeds -> a third; a yes/no judge)."""

    seeds: str = _f("configs/selflengthen/seeds.jsonl", "Seed instructions: JSONL/Parquet with an instruction, prompt or query field.")
    count: int = _f(8, "New instructions to keep per iteration.")
    max_tries: int = _f(3, "Proposals per kept instruction at most (proposals are bounded by count x max_tries).")
    judge: bool = _f(True, "Ask the instructor whether each proposal calls for a long text (the original's judge prompt).")
    min_words: int = _f(4, "Drop proposals shorter than this many words (the original: more than 3).")
    max_words: int = _f(200, "Drop proposals longer than this many words.")
    min_stated_words: int = _f(800, "Drop proposals that state a length below this (they do not call for long output).")
    include_seeds: bool = _f(False, "Also write for the seed instructions themselves in iteration 1.")
    max_tokens: int = _f(160, "Tokens per proposal.")
    temperature: float = _f(1.0, "Sampling temperature of proposals (high: varied instructions).")


@dataclass
class GenerateSection:
    """Step 2: the current generator writes a first response to each instruction."""

    samples: int = _f(1, "First responses per instruction (the original writes two).")
    target_words: int = _f(2000, "Target of an instruction that states no length (sets the generator's token cap).")
    max_tokens: int = _f(1024, "Tokens per first response at most.")
    state_target: bool = _f(False, "Tell the generator the target length (off: the instruction alone, as the original).")
    temperature: float = _f(0.7, "Sampling temperature.")
    repeat_penalty: float | None = _f(1.1, "llama.cpp / transformers repeat penalty (null: none).")
    gen_tries: int = _f(2, "First responses written at most per sample (a failing one is written again).")
    concurrency: int = _f(1, "Records written at once.")


@dataclass
class ExtendSection:
    """Step 3: the current extender lengthens each first response."""

    factor: float = _f(2.0, "Extension target: this many times the first response's words.")
    max_target_words: int = _f(20000, "Extension target at most.")
    max_rounds: int = _f(3, "Extension rounds per response (the original: 3).")
    growth: float = _f(2.0, "A round aims at growth x the current length.")
    max_round_calls: int = _f(8, "Continuation calls per round at most ...")
    round_words_per_call: int = _f(50, "... or one per this many words of the round's goal, if that is more.")
    max_call_tokens: int = _f(1024, "Tokens per extender call at most.")
    temperature: float = _f(0.7, "Sampling temperature.")
    repeat_penalty: float | None = _f(1.1, "Repeat penalty (null: none).")
    concurrency: int = _f(1, "Records extended at once.")


@dataclass
class FilterSection:
    """Step 4: which extended responses become training data."""

    min_growth: float = _f(1.2, "Keep an extension only if it has more than this many times the first response's words (the original: 1.2).")
    min_words: int = _f(20, "Drop extensions shorter than this.")
    max_ngram_repetition: float = _f(0.35, "Drop extensions whose share of repeated 4-grams exceeds this.")
    min_format_score: float = _f(0.5, "Drop extensions whose format reward (reward_models.format) is below this.")
    check_language: bool = _f(True, "Drop extensions not in the instruction's language.")


@dataclass
class TrainSection:
    """Step 5: SFT of the generator (instruction -> extended text) and the extender (expand prompt over
    the first response with some lines dropped -> extended text), through `longform.train.run_training`."""

    config: str = _f("configs/train/cpu-smoke-sft.yaml", "Base `longform train sft` config for both models.")
    base_model: str = _f("smollm2", "Model trained in iteration 1 (train config `model`); it should be the generator's weights.")
    from_previous: bool = _f(True, "Iteration N>1 trains on from iteration N-1's checkpoints (the original continues its LoRA).")
    lora: bool = _f(True, "Train LoRA adapters (merged into the saved checkpoints).")
    overrides: dict = _f({}, "Keys set on the train config of both models (e.g. {max_steps: 20}).")
    generator_overrides: dict = _f({}, "Keys set on the generator's train config only.")
    extender_overrides: dict = _f({}, "Keys set on the extender's train config only.")
    drop_lines: float = _f(0.2, "Share of the first response's lines dropped from the extender's prompt (the original: 0.2).")
    skip: bool = _f(False, "Do not train (iterations then keep the same models): a data-only run.")


@dataclass
class SelfLengthenConfig:
    """An iterate-loop run."""

    name: str = _f("selflengthen", "Run name: its folder is OUT_DIR/NAME.")
    out_dir: str = _f("out/selflengthen", "Parent folder of the run.")
    iterations: int = _f(2, "Iterations (a rerun with more continues after the finished ones).")
    seed: int = _f(0, "Base seed of every call and of the line dropping.")
    models: ModelsSection = _f(None, "Models of iteration 1.")
    self_instruct: SelfInstructSection = _f(None, "Step 1.")
    generate: GenerateSection = _f(None, "Step 2.")
    extend: ExtendSection = _f(None, "Step 3.")
    filters: FilterSection = _f(None, "Step 4.")
    train: TrainSection = _f(None, "Step 5.")

    def __post_init__(self) -> None:
        for name, cls in SECTIONS.items():
            if getattr(self, name) is None:
                setattr(self, name, cls())

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return redact(dataclasses.asdict(self))

    def fingerprint(self) -> str:
        """What decides the results: a rerun must match it (only `iterations` may change)."""
        d = self.to_dict()
        d.pop("iterations", None)
        d["models"] = {k: v for k, v in d["models"].items()
                   if k not in ("threads", "concurrency", "timeout_s", "cache_path", "no_cache")}
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


SECTIONS: dict[str, type] = {
    "models": ModelsSection, "self_instruct": SelfInstructSection, "generate": GenerateSection,
    "extend": ExtendSection, "filters": FilterSection, "train": TrainSection,
}


def check_spec(spec: str, key: str, where: str) -> None:
    """A model spec that names a local checkpoint or GGUF file must point at one that exists."""
    kind, _, name = spec.partition(":")
    if kind == "transformers" or (kind == "vllm" and name.startswith(("/", ".", "~"))):
        p = Path(name).expanduser()
        if not (p / "config.json").is_file() and not (p / "adapter_config.json").is_file():
            raise UserError(f"{where}: `{key}` points at a missing checkpoint ({spec}: no config.json there); "
                            "give a folder written by `longform train`, or `embedded`")
    elif kind == "embedded" and name and not Path(name).expanduser().is_file():
        raise UserError(f"{where}: `{key}` points at a missing GGUF file ({name}); give an existing .gguf or `embedded`")


def validate(cfg: SelfLengthenConfig, where: str) -> SelfLengthenConfig:
    def bad(key: str, msg: str) -> UserError:
        return UserError(f"{where}: key `{key}` {msg}")

    if not cfg.name or "/" in cfg.name or cfg.name in (".", ".."):
        raise bad("name", f"must be a plain folder name, got {cfg.name!r}")
    si, g, e, f, t = cfg.self_instruct, cfg.generate, cfg.extend, cfg.filters, cfg.train
    for key, value, lo in (("iterations", cfg.iterations, 1), ("self_instruct.count", si.count, 0),
                           ("self_instruct.max_tries", si.max_tries, 1), ("generate.samples", g.samples, 1),
                           ("generate.target_words", g.target_words, 1), ("generate.max_tokens", g.max_tokens, 16),
                           ("generate.gen_tries", g.gen_tries, 1), ("generate.concurrency", g.concurrency, 1),
                           ("extend.max_rounds", e.max_rounds, 1), ("extend.max_round_calls", e.max_round_calls, 1),
                           ("extend.round_words_per_call", e.round_words_per_call, 1),
                           ("extend.max_call_tokens", e.max_call_tokens, 16), ("extend.concurrency", e.concurrency, 1),
                           ("extend.max_target_words", e.max_target_words, 1)):
        if value < lo:
            raise bad(key, f"must be at least {lo}, got {value}")
    if e.factor <= 1:
        raise bad("extend.factor", f"must be above 1 (the extension must be longer), got {e.factor}")
    if not 0 <= t.drop_lines < 1:
        raise bad("train.drop_lines", f"must be in [0, 1), got {t.drop_lines}")
    if not 0 <= f.min_format_score <= 1:
        raise bad("filters.min_format_score", f"must be in [0, 1], got {f.min_format_score}")
    if cfg.models.checkpoint_backend not in ("transformers", "vllm"):
        raise bad("models.checkpoint_backend", f"must be transformers or vllm, got {cfg.models.checkpoint_backend!r}")
    for key in ("generator", "extender", "instructor"):
        spec = getattr(cfg.models, key)
        if spec:
            check_spec(spec, f"models.{key}", where)
    if not Path(si.seeds).is_file() and not Path(si.seeds).is_dir():
        raise bad("self_instruct.seeds", f"names a missing file ({si.seeds}); give a JSONL file of seed instructions")
    from longform.selflengthen.self_instruct import load_seeds

    seeds = load_seeds(si.seeds)
    if si.count > 0 and len(seeds) < 2:
        raise UserError(f"seed file {si.seeds} has only {len(seeds)} usable instruction(s); self-instruct shows two "
                        "examples a call: add at least one more")
    if not t.skip and not Path(t.config).is_file():
        raise bad("train.config", f"names a missing file ({t.config}); give a `longform train sft` config")
    if not t.skip and t.base_model not in ("smollm2", "tiny") and "/" in t.base_model and not Path(t.base_model).exists():
        raise bad("train.base_model", f"points at a missing checkpoint ({t.base_model})")
    return cfg


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> SelfLengthenConfig:
    """Read and check a YAML config; `overrides` maps dotted keys (e.g. "models.generator") to values."""
    data = config_io.read_yaml(path, example="configs/selflengthen/cpu-smoke.yaml")
    config_io.apply_overrides(data, overrides)
    return validate(config_io.build(SelfLengthenConfig, data, str(path)), str(path))


def describe_keys() -> str:
    """Every key with its default and help."""
    return config_io.describe_keys(SelfLengthenConfig)
