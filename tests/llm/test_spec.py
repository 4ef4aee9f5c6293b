import pytest

from longform.errors import UserError
from longform.llm import LLMConfig, load_model, parse_spec


@pytest.mark.parametrize(
    "spec,kind,name",
    [("embedded", "embedded", ""), ("embedded:/m.gguf", "embedded", "/m.gguf"), ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
     ("litellm:anthropic/claude", "litellm", "anthropic/claude"), ("vllm:/models/q", "vllm", "/models/q")],
)
def test_specs_parse(spec, kind, name):
    s = parse_spec(spec)
    assert (s.kind, s.name) == (kind, name)


@pytest.mark.parametrize("spec", ["gpt4", "hf:foo", "", "openai:", "vllm"])
def test_unknown_or_empty_specs_name_the_valid_forms(spec):
    with pytest.raises(UserError, match="openai:<model>"):
        parse_spec(spec)


def test_missing_openai_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY is not set"):
        load_model(LLMConfig(model="openai:gpt-4o-mini", no_cache=True))


def test_missing_litellm_provider_key_is_named(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        load_model(LLMConfig(model="litellm:anthropic/claude-sonnet-4-5", no_cache=True))


def test_vllm_without_vllm_installed_says_how():
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(UserError, match="vllm is not installed"):
            load_model(LLMConfig(model="vllm:/models/x", no_cache=True))
    else:
        pytest.skip("vllm is installed here")


def test_bad_base_url_scheme(monkeypatch):
    with pytest.raises(UserError, match="http://"):
        load_model(LLMConfig(model="openai:x", base_url="127.0.0.1:8000", no_cache=True))
