"""Model specs: `embedded[:path.gguf]`, `openai:<model>`, `litellm:<provider/model>`, `vllm:<path>`."""

from __future__ import annotations

from dataclasses import dataclass

from longform.errors import UserError

KINDS = ("embedded", "openai", "litellm", "vllm", "transformers")
SPEC_HELP = "embedded, embedded:/path/model.gguf, openai:<model>, litellm:<provider/model>, vllm:<path> or transformers:<checkpoint folder>"


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    name: str  # model name or path; "" for the default embedded model


def parse_spec(spec: str) -> ModelSpec:
    spec = (spec or "").strip()
    kind, _, name = spec.partition(":")
    if kind not in KINDS:
        raise UserError(f"unknown model spec {spec!r}: use {SPEC_HELP}")
    if kind != "embedded" and not name:
        raise UserError(f"model spec {spec!r} names no model: use {SPEC_HELP}")
    return ModelSpec(kind=kind, name=name)
