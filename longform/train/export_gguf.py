"""Convert a Llama-architecture checkpoint written by `longform train` to GGUF, offline, so that
llama.cpp serves it on a CPU (`make serve MODEL=PATH`) and `--model embedded:PATH.gguf` writes with it.

    python -m longform.train.export_gguf out/train/sft-smoke [--out FILE.gguf] [--dtype f16|f32]

The tokenizer metadata is copied from the packaged SmolLM2 GGUF (the base of every CPU run), so
the checkpoint must use that tokenizer: its vocabulary is checked token by token. The
architecture fields are written from the checkpoint's config. Q and K projection rows are
permuted back into llama.cpp's rotary layout (transformers un-permutes them when it reads a GGUF).
The file is written to a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from longform.errors import UserError

TOKENIZER_PREFIX = "tokenizer."
LAYER_MAP = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def _permute(w: Any, n_head: int) -> Any:
    """llama.cpp's rotary layout for a Q or K projection (the inverse of transformers' GGUF reader)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_name(hf: str) -> str | None:
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    if parts[:2] == ["model", "layers"] and len(parts) > 3:
        tail = ".".join(parts[3:])
        if tail in LAYER_MAP:
            return f"blk.{parts[2]}.{LAYER_MAP[tail]}"
    return None


def _source_fields(source: Path) -> dict[str, tuple[Any, Any, Any]]:
    from gguf import GGUFReader, GGUFValueType

    reader = GGUFReader(str(source))
    out = {}
    for key, f in reader.fields.items():
        if not key.startswith(TOKENIZER_PREFIX):
            continue
        sub = f.types[-1] if f.types[0] == GGUFValueType.ARRAY else None
        value = f.contents()
        out[key] = (value, f.types[0], sub)
    return out


def export_gguf(checkpoint: str | Path, out: str | Path | None = None, dtype: str = "f16",
                source_gguf: str | Path | None = None) -> Path:
    try:
        import numpy as np
        from gguf import GGUFValueType, GGUFWriter
        from safetensors import safe_open
    except ImportError as exc:
        raise UserError(f"GGUF export needs the training extras (pip install -e '.[train]'): {exc}") from None
    ck = Path(checkpoint)
    if not (ck / "config.json").is_file():
        raise UserError(f"{ck} is not a checkpoint folder (no config.json)")
    cfg = json.loads((ck / "config.json").read_text())
    if cfg.get("model_type") != "llama":
        raise UserError(f"{ck} is a {cfg.get('model_type')!r} model; only Llama-architecture checkpoints convert "
                        "here (serve others with vLLM on a GPU)")
    if cfg.get("architectures") and cfg["architectures"][0] != "LlamaForCausalLM":
        raise UserError(f"{ck} is a {cfg['architectures'][0]}, not a causal language model; nothing to serve")
    if dtype not in ("f16", "f32"):
        raise UserError(f"--dtype must be f16 or f32, got {dtype!r}")
    if source_gguf is None:
        from longform.llm.embedded import default_gguf_path

        source_gguf = default_gguf_path()
    tok_fields = _source_fields(Path(source_gguf))
    tokens = tok_fields["tokenizer.ggml.tokens"][0]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(ck))
    vocab = tok.get_vocab()
    if len(vocab) != len(tokens) or any(vocab.get(t) != i for i, t in enumerate(tokens)):
        raise UserError(f"{ck} does not use the SmolLM2 tokenizer of {Path(source_gguf).name}; this converter "
                        "copies that tokenizer, so it cannot convert this checkpoint")
    files = sorted(ck.glob("*.safetensors"))
    if not files:
        raise UserError(f"{ck} holds no .safetensors weights")

    n_head, n_kv = int(cfg["num_attention_heads"]), int(cfg.get("num_key_value_heads") or cfg["num_attention_heads"])
    head_dim = int(cfg.get("head_dim") or cfg["hidden_size"] // n_head)
    rope = (cfg.get("rope_parameters") or {}).get("rope_theta") or cfg.get("rope_theta") or 10000.0
    dest = Path(out) if out else ck / f"model-{dtype}.gguf"
    tmp = dest.with_name(f".{dest.name}.tmp")
    w = GGUFWriter(str(tmp), "llama")
    w.add_name(ck.name)
    w.add_context_length(int(cfg["max_position_embeddings"]))
    w.add_embedding_length(int(cfg["hidden_size"]))
    w.add_block_count(int(cfg["num_hidden_layers"]))
    w.add_feed_forward_length(int(cfg["intermediate_size"]))
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(float(rope))
    w.add_layer_norm_rms_eps(float(cfg["rms_norm_eps"]))
    w.add_vocab_size(len(tokens))
    w.add_file_type(1 if dtype == "f16" else 0)
    for key, (value, vtype, sub) in tok_fields.items():
        if key == "tokenizer.chat_template":
            continue
        w.add_key_value(key, value, vtype, sub)
    w.add_key_value("tokenizer.chat_template", tok.chat_template, GGUFValueType.STRING)

    tied = bool(cfg.get("tie_word_embeddings", False))
    for f in files:
        with safe_open(str(f), "np") as st:
            for name in st.keys():  # noqa: SIM118 (safe_open has no __iter__)
                if tied and name == "lm_head.weight":
                    continue
                target = gguf_name(name)
                if target is None:
                    raise UserError(f"{ck}: tensor {name} has no GGUF name in this converter")
                t = st.get_tensor(name).astype(np.float32)
                if name.endswith("q_proj.weight"):
                    t = _permute(t, n_head)
                elif name.endswith("k_proj.weight"):
                    t = _permute(t, n_kv)
                if dtype == "f16" and t.ndim == 2:
                    t = t.astype(np.float16)
                w.add_tensor(target, np.ascontiguousarray(t))
    try:
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
    finally:
        w.close()
    os.replace(tmp, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    from longform.cli_support import ArgumentParser, guarded

    p = ArgumentParser(prog="python -m longform.train.export_gguf", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default=None, help="GGUF file to write (default CHECKPOINT/model-DTYPE.gguf)")
    p.add_argument("--dtype", default="f16", help="f16 (default) or f32")
    args = p.parse_args(argv)
    return guarded(lambda: print(export_gguf(args.checkpoint, args.out, args.dtype)) or 0)()


if __name__ == "__main__":
    sys.exit(main())
