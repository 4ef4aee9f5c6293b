"""One way to read a configuration, for every command (dataset jobs, training, Self-Lengthen,
rewards): YAML (or a mapping) into dataclasses that carry a one-line help per field, as TRL's do.

Every key is checked: an unknown key is a UserError naming it, the file, and the closest valid key;
a value of the wrong type names the key and the expected type. A field whose type is itself a
dataclass is a section (a nested mapping, checked the same way; absent or null: its defaults).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from longform.errors import UserError

T = TypeVar("T")


def help_field(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with its one-line help (lists and dicts get a fresh copy per instance)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata={"help": help}, **kw)
    return dataclasses.field(default=default, metadata={"help": help}, **kw)


def type_ok(value: Any, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if origin is None:
        if hint is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if hint is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, hint)
    if origin is list:
        return isinstance(value, list) and all(type_ok(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(type_ok(k, args[0]) and type_ok(v, args[1]) for k, v in value.items())
    return any(type_ok(value, a) if a is not type(None) else value is None for a in args)  # Optional / Union


def type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _section_class(hint: Any) -> type | None:
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _wants_float(hint: Any) -> bool:
    return hint is float or (get_origin(hint) is not None and float in get_args(hint) and int not in get_args(hint))


def build(cls: type[T], data: Any, where: str, prefix: str = "", *, keys_hint: str | None = None) -> T:
    """An instance of `cls` from a mapping, every key and type checked (sections recursively).

    `keys_hint` replaces the list of valid keys in the unknown-key message (e.g. "`longform train
    keys sft` lists them")."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{where}: `{prefix.rstrip('.') or 'the config'}` must be a mapping of keys, "
                        f"got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean `{prefix}{close[0]}`?)" if close else ""
            listing = keys_hint or (f"valid keys{' of ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}")
            raise UserError(f"{where}: unknown key `{full}`{hint}; {listing}")
        section = _section_class(hints[key])
        if section is not None:
            kwargs[key] = build(section, value, where, f"{full}.")
            continue
        if isinstance(value, int) and not isinstance(value, bool) and _wants_float(hints[key]):
            value = float(value)
        if not type_ok(value, hints[key]):
            raise UserError(f"{where}: key `{full}` must be {type_name(hints[key])}, got {value!r}")
        kwargs[key] = value
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in kwargs and _section_class(hints[f.name]) is not None and f.default is None:
            kwargs[f.name] = hints[f.name]()  # a section left out: its defaults
    return cls(**kwargs)


def read_yaml(path: str | Path, *, example: str) -> dict[str, Any]:
    """The top-level mapping of a YAML file; a missing, unreadable, invalid or empty file is a UserError
    that points at `example` (a config to start from)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config file {p} does not exist; pass --config {example}") from None
    except IsADirectoryError:
        raise UserError(f"config file {p} is a folder; pass --config {example}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read config file {p}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f": line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}{at}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if data is None:
        raise UserError(f"{p} is empty; start from {example}")
    if not isinstance(data, dict):
        raise UserError(f"{p}: the top level must be a mapping of keys, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """`data` with dotted keys (e.g. "model.threads") set to their values."""
    for dotted, value in (overrides or {}).items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return data


def parse_set(items: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as YAML (numbers, booleans, lists, null)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--set {item!r} is not KEY=VALUE; e.g. --set max_steps=20")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def describe_keys(cls: type, indent: str = "") -> str:
    """Every key with its default and help, sections indented (for `... keys` commands and READMEs)."""
    hints = get_type_hints(cls)
    lines: list[str] = []
    for f in dataclasses.fields(cls):
        section = _section_class(hints[f.name])
        if section is not None:
            lines.append(f"{indent}{f.name}:  # {f.metadata['help']}")
            lines.append(describe_keys(section, indent + "  "))
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]
        lines.append(f"{indent}{f.name}: {json.dumps(default, ensure_ascii=False)}  # {f.metadata['help']}")
    return "\n".join(lines)
