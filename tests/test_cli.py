"""`longform chat` as a user runs it: bad input gives one line naming the fix, a non-zero exit, no traceback."""

import json
import os
import subprocess
import sys

import pytest

from tests.llm.conftest import free_port


def longform(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run([sys.executable, "-m", "longform.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=300)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_unknown_model_spec():
    proc = longform("chat", "hi", "--model", "gpt4")
    assert proc.returncode == 2
    assert "unknown model spec 'gpt4'" in one_error_line(proc) and "openai:<model>" in proc.stderr


def test_missing_api_key():
    proc = longform("chat", "hi", "--model", "openai:gpt-4o-mini")
    assert proc.returncode == 2
    assert "OPENAI_API_KEY is not set" in one_error_line(proc) and "--base-url" in proc.stderr


def test_unreachable_base_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = longform("chat", "hi", "--model", "openai:m", "--base-url", url, "--retries", "2", "--no-cache")
    assert proc.returncode == 3
    line = one_error_line(proc)
    assert "after 2 attempts" in line and f"Cannot reach {url}" in line and "--base-url" in line


def test_invalid_schema(tmp_path):
    bad = tmp_path / "schema.json"
    bad.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "strnig"}}}))
    proc = longform("chat", "hi", "--schema", str(bad))
    assert proc.returncode == 2
    assert "invalid JSON schema at properties/a/type" in one_error_line(proc)


def test_schema_file_that_is_not_json(tmp_path):
    bad = tmp_path / "schema.json"
    bad.write_text("{not json")
    proc = longform("chat", "hi", "--schema", str(bad))
    assert proc.returncode == 2 and "is not JSON (line 1" in one_error_line(proc)


def test_unknown_flag_is_one_line_and_exit_2():
    proc = longform("chat", "hi", "--bogus")
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.model
def test_chat_on_the_embedded_default_then_from_cache(tmp_path):
    env = {"LONGFORM_CACHE_DIR": str(tmp_path)}
    first = longform("chat", "Name a tea.", "--max-tokens", "12", "--call-log", str(tmp_path / "calls.jsonl"), env=env)
    second = longform("chat", "Name a tea.", "--max-tokens", "12", env=env)
    assert first.returncode == 0 and first.stdout.strip()
    assert second.stdout == first.stdout and "cache" in second.stderr.splitlines()[-1]
    assert json.loads((tmp_path / "calls.jsonl").read_text().splitlines()[0])["tag"] == "chat"
