"""JSON-schema output: check the schema, parse and validate replies, build the repair message."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from longform.errors import UserError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def check_schema(schema: Any) -> None:
    """Raise UserError unless `schema` is a valid JSON Schema document."""
    if not isinstance(schema, dict):
        raise UserError(f"invalid JSON schema: expected an object, got {type(schema).__name__}; pass a JSON object")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise UserError(f"invalid JSON schema at {where}: {exc.message}; fix the schema") from None


def parse_and_validate(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Return (value, None) when `text` holds JSON matching `schema`, else (None, what is wrong)."""
    candidate = text.strip()
    fenced = _FENCE.search(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    # strict=False: a raw newline or tab inside a string is taken as itself. llama.cpp's JSON grammar
    # lets a small model emit them, and rejecting the reply cost two repair calls of ~1,100 prompt
    # tokens each, then a fallback (measured in a 10k-word plan).
    decoder = json.JSONDecoder(strict=False)
    try:
        value = decoder.decode(candidate)
    except json.JSONDecodeError:
        start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
        try:
            value, _ = decoder.raw_decode(candidate[start:]) if start >= 0 else (None, 0)
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON ({exc.msg.removesuffix(' at')} at character {exc.pos})"
        if start < 0:
            return None, "no JSON value found"
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        return None, f"does not match the schema at {where}: {err.message}"
    return value, None


def repair_message(problem: str, schema: dict[str, Any]) -> str:
    return (
        f"Your previous reply {problem}. Reply again with only a JSON value that matches this schema, "
        f"and nothing else:\n{json.dumps(schema, ensure_ascii=False)}"
    )
