"""`transformers:PATH`: a local checkpoint through the shared LLM layer (a tiny random Llama with the
SmolLM2 tokenizer and chat template: control flow, not prose)."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from longform.errors import UserError
from longform.llm import GenParams, LLMConfig, load_model, parse_spec
from tests.model_threads import THREADS


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from longform.train.base_model import tiny_model_dir

    dest = tmp_path_factory.mktemp("tfb") / "tiny"
    shutil.copytree(tiny_model_dir(0), dest)
    return dest


def complete(model, text: str, **params):
    return asyncio.run(model.complete([{"role": "user", "content": text}], GenParams(**params)))


def test_spec_and_bad_paths(tmp_path):
    assert parse_spec("transformers:out/sft").kind == "transformers"
    with pytest.raises(UserError, match="no checkpoint folder there"):
        load_model(LLMConfig(model=f"transformers:{tmp_path}", no_cache=True))
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(UserError, match="no .safetensors weights"):
        load_model(LLMConfig(model=f"transformers:{tmp_path}", no_cache=True))


def test_generation_is_bounded_seeded_and_counted(tiny_dir):
    model = load_model(LLMConfig(model=f"transformers:{tiny_dir}", no_cache=True, n_threads=THREADS))
    assert model.backend.model_id.startswith("transformers:tiny@") and model.n_ctx == 8192
    a = complete(model, "Name three teas.", max_tokens=12, seed=3, temperature=0.8)
    b = complete(model, "Name three teas.", max_tokens=12, seed=3, temperature=0.8)
    assert a.text == b.text and a.usage.completion_tokens <= 12 and a.usage.prompt_tokens > 10
    # a random model does not stop by itself: the bound ends it and says so
    assert a.finish_reason == "length" or a.usage.completion_tokens < 12
    n = model.backend.count_messages([{"role": "user", "content": "Name three teas."}])
    assert n == a.usage.prompt_tokens


def test_model_id_changes_when_the_weights_change(tiny_dir, tmp_path):
    from longform.llm.transformers_backend import weights_digest

    other = tmp_path / "copy"
    shutil.copytree(tiny_dir, other)
    before = weights_digest(other)
    (other / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    import os

    os.utime(other / "model.safetensors", ns=(1, 1))
    assert weights_digest(other) != before
