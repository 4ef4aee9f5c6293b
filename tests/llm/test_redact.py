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


def test_url_credentials_are_redacted_everywhere_a_url_is_written():
    from longform.llm.redact import redact_url

    assert redact_url("http://alice:pw123@host:8000/v1") == f"http://{REDACTED}@host:8000/v1"
    assert redact_url("https://host/v1?api_key=abc&x=1") == f"https://host/v1?api_key={REDACTED}&x=1"
    assert redact_url("https://h/v1?a=1&access_token=t0k&sig=zz") == f"https://h/v1?a=1&access_token={REDACTED}&sig={REDACTED}"
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    record = {"model": {"base_url": "http://u:topsecret@h/v1?key=k3y"}, "note": "see http://bob:hunter2@x.org/"}
    out = json.dumps(redact(record))
    assert "topsecret" not in out and "k3y" not in out and "hunter2" not in out and "bob" not in out


def test_backend_ids_and_descriptions_hold_no_url_credentials():
    from longform.llm.openai_compat import OpenAIBackend, split_query

    b = OpenAIBackend("m", base_url="http://alice:pw-777@127.0.0.1:9/v1?api_key=k-888")
    text = json.dumps([b.model_id, b.describe(), b.failure_hint(ConnectionError("connect failed"))])
    assert "pw-777" not in text and "k-888" not in text and REDACTED in text
    assert split_query("http://h/v1?api_key=k&v=2") == ("http://h/v1", {"api_key": "k", "v": "2"})


def test_dataset_config_records_no_url_credentials():
    from longform.dataset_config import from_dict

    cfg = from_dict({"model": {"model": "openai:m", "base_url": "http://u:pw-999@h/v1?token=t-111"}})
    text = json.dumps(cfg.to_dict())
    assert "pw-999" not in text and "t-111" not in text
    assert cfg.model.base_url == "http://u:pw-999@h/v1?token=t-111"  # the job itself still uses it
