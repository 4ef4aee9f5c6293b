"""Remove secrets from anything written to logs, call logs, datasets or run records."""

from __future__ import annotations

import os
import re
from typing import Any

_SECRET_KEY_NAMES = re.compile(
    r"^(.*[_-])?(api[_-]?key|private[_-]?key|authorization|auth|secret|password|passwd|bearer|token|access[_-]?token)$", re.IGNORECASE
)
_SECRET_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{12,}"),
    re.compile(r"\bBearer\s+[A-Za-z0-9._\-]{8,}", re.IGNORECASE),
    re.compile(r"\b(hf|gsk|xai|pplx|ghp|glpat)_[A-Za-z0-9]{16,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
]
REDACTED = "[REDACTED]"
# user:password@ in any URL, and query parameters whose name says they carry a credential.
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@?#\"']+@")
_URL_SECRET_PARAM = re.compile(
    r"([?&;][A-Za-z0-9_.\-]*(?:key|token|secret|password|passwd|pwd|auth|signature|sig|credentials?)=)[^&#\s\"']+",
    re.IGNORECASE,
)


def _env_secrets() -> list[str]:
    return [
        v
        for k, v in os.environ.items()
        if v and len(v) >= 8 and re.search(r"(KEY|TOKEN|SECRET|PASSWORD)$", k.upper())
    ]


def redact_url(url: str) -> str:
    """`url` without user-info (`user:secret@`) and without the values of key-like query parameters."""
    url = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", url)
    return _URL_SECRET_PARAM.sub(lambda m: f"{m.group(1)}{REDACTED}", url)


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    for value in _env_secrets() if secrets is None else secrets:
        text = text.replace(value, REDACTED)
    text = redact_url(text)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(obj: Any, secrets: list[str] | None = None) -> Any:
    """A deep copy of `obj` with secret-named fields and secret-looking strings replaced."""
    secrets = _env_secrets() if secrets is None else secrets
    if isinstance(obj, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEY_NAMES.match(k) and v else redact(v, secrets))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [redact(v, secrets) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj, secrets)
    return obj
