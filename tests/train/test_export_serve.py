"""GGUF export of a trained checkpoint (so llama.cpp serves it on CPU) and `make serve MODEL=PATH`
end to end: the same greedy tokens from llama.cpp as from transformers, then a real server answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longform.errors import UserError
from longform.train.export_gguf import export_gguf
from tests.llm.conftest import free_port
from tests.train.conftest import env_with_offline, full_only

REPO = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Name three teas."}]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    from longform.train.base_model import tiny_model_dir

    dest = tmp_path_factory.mktemp("export") / "tiny-ck"
    shutil.copytree(tiny_model_dir(0), dest)
    return dest


@full_only
def test_llama_cpp_reads_the_export_as_transformers_does(checkpoint):
    import torch
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = export_gguf(checkpoint, dtype="f32")
    assert gguf == checkpoint / "model-f32.gguf" and not list(checkpoint.glob(".*.tmp"))
    tok = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForCausalLM.from_pretrained(str(checkpoint))
    ids = tok.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        want = model.generate(ids, max_new_tokens=8, do_sample=False)[0][ids.shape[1]:].tolist()
    llm = Llama(model_path=str(gguf), n_ctx=256, n_threads=1, verbose=False)
    got = []
    llm.eval(ids[0].tolist())
    for _ in range(8):
        nxt = int(llm.sample(temp=0.0))
        got.append(nxt)
        llm.eval([nxt])
    assert got == want


def test_export_refuses_what_it_cannot_convert(tmp_path, checkpoint):
    with pytest.raises(UserError, match="not a checkpoint folder"):
        export_gguf(tmp_path)
    other = tmp_path / "qwen"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "qwen2"}')
    with pytest.raises(UserError, match="only Llama-architecture checkpoints"):
        export_gguf(other)


@pytest.mark.server
@full_only
def test_serve_model_path_answers_over_the_openai_api(checkpoint, tmp_path):
    from openai import OpenAI

    port = free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "longform.train.serve", str(checkpoint), "--port", str(port), "--n-ctx", "512"]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env_with_offline(), cwd=REPO)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=30)
        deadline = time.time() + 240
        while True:
            try:
                r = client.chat.completions.create(model=checkpoint.name, messages=MESSAGES, max_tokens=5, temperature=0)
                break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("server did not answer:\n" + log.read_text()[-2000:])
                time.sleep(0.5)
        assert r.usage.completion_tokens >= 1 and r.choices[0].finish_reason in ("length", "stop")
        assert "llama_cpp.server" in log.read_text() and (checkpoint / "model-f16.gguf").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
