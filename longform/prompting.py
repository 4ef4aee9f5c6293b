"""Prompt templates and output schemas, shipped in the `longform.prompts` package.

A prompt NAME is two Jinja2 files, `NAME.system.md` and `NAME.user.md`, with optional language
variants `NAME.zh.system.md` / `NAME.zh.user.md` (used when `lang="zh"` and present).
A schema NAME is `NAME.schema.json`.

Prefix stability: templates put what is fixed for a whole run (role, instruction, plan) in the
system part and what changes per call (memory, current step) at the end of the user part, so a
run's calls share a byte-identical prefix that llama.cpp / vLLM can reuse.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jinja2

from longform.llm import Message

PACKAGE = "longform.prompts"


def _read(filename: str) -> str | None:
    f = resources.files(PACKAGE).joinpath(filename)
    return f.read_text(encoding="utf-8") if f.is_file() else None


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


@functools.cache
def template_source(name: str, part: str, lang: str = "en") -> str:
    """The template text of `NAME[.lang].part.md`; falls back to the language-neutral file."""
    candidates = [f"{name}.{lang}.{part}.md"] if lang and lang != "en" else []
    candidates.append(f"{name}.{part}.md")
    for filename in candidates:
        text = _read(filename)
        if text is not None:
            return text
    raise FileNotFoundError(f"no prompt template {candidates[-1]!r} in {PACKAGE}")


def render(name: str, part: str, lang: str = "en", **variables: Any) -> str:
    src = template_source(name, part, lang)
    return _env().from_string(src).render(**variables).strip()


def render_messages(name: str, lang: str = "en", **variables: Any) -> list[Message]:
    """[system, user] messages of prompt `name`, rendered with `variables`."""
    return [
        {"role": "system", "content": render(name, "system", lang, **variables)},
        {"role": "user", "content": render(name, "user", lang, **variables)},
    ]


@functools.cache
def _schema_text(name: str) -> str:
    text = _read(f"{name}.schema.json")
    if text is None:
        raise FileNotFoundError(f"no schema {name}.schema.json in {PACKAGE}")
    return text


def load_schema(name: str) -> dict[str, Any]:
    """A fresh copy of schema `name` (callers may adjust bounds such as maxItems)."""
    return json.loads(_schema_text(name))
