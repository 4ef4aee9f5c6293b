import json

from longform.llm.call_log import CallLog
from longform.llm.redact import REDACTED, redact


def test_secret_fields_and_patterns_are_removed(monkeypatch):
    monkeypatch.setenv("MY_PROVIDER_API_KEY", "zz-secret-value-123456")
    record = {
        "api_key": "anything",
        "headers": {"Authorization": "Bearer abcdefghijkl123"},
        "text": "key sk-abcdefghijklmnop1234 and zz-secret-value-123456 inline",
        "nested": ["hf_ABCDEFGHIJKLMNOPQRSTUV"],
        "usage": {"prompt_tokens": 3},
    }
    out = json.dumps(redact(record))
    assert "anything" not in out and "abcdefghijkl123" not in out
    assert "sk-abcdefghijklmnop1234" not in out and "zz-secret-value-123456" not in out
    assert "hf_ABCDEFGHIJKLMNOPQRSTUV" not in out
    assert REDACTED in out and '"prompt_tokens": 3' in out


def test_call_log_never_holds_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-key-abcdefghijklmnopqrstu")
    log = CallLog(tmp_path / "calls.jsonl")
    log.write({"messages": [{"role": "user", "content": "my key is sk-live-key-abcdefghijklmnopqrstu"}]})
    raw = (tmp_path / "calls.jsonl").read_text()
    assert "sk-live-key" not in raw and REDACTED in raw
