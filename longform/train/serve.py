"""Serve a checkpoint written by `longform train` over the OpenAI API (what `make serve MODEL=PATH` runs).

    python -m longform.train.serve out/train/sft-smoke [--host 127.0.0.1] [--port 8000] [--n-ctx 8192]

On a machine with a CUDA GPU: `vllm serve PATH` (vLLM must be installed: pip install -e .[vllm]).
Otherwise: the checkpoint is converted to GGUF once (longform.train.export_gguf; Llama models with
the SmolLM2 tokenizer, i.e. what the CPU configs train) and served by `python -m llama_cpp.server`.
Either way clients use `--model openai:NAME --base-url http://HOST:PORT/v1`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from longform.cli_support import ArgumentParser, guarded
from longform.errors import UserError


def has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def gguf_for(checkpoint: Path) -> Path:
    """CHECKPOINT/model-f16.gguf, (re)made when missing or older than the weights."""
    from longform.train.export_gguf import export_gguf

    gguf = checkpoint / "model-f16.gguf"
    newest = max((f.stat().st_mtime for f in checkpoint.glob("*.safetensors")), default=0.0)
    if not gguf.is_file() or gguf.stat().st_mtime < newest:
        print(f"serve: converting {checkpoint} to {gguf} for llama.cpp", file=sys.stderr)
        export_gguf(checkpoint, gguf)
    return gguf


def command(checkpoint: Path, host: str, port: int, n_ctx: int, gpu: bool) -> list[str]:
    if gpu:
        if importlib.util.find_spec("vllm") is None:
            raise UserError("a GPU is here but vLLM is not installed: pip install -e '.[vllm]'")
        return ["vllm", "serve", str(checkpoint), "--host", host, "--port", str(port), "--max-model-len", str(n_ctx)]
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_for(checkpoint)), "--host", host,
            "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", checkpoint.name]


@guarded
def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m longform.train.serve", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="a folder written by `longform train` (or any HF checkpoint folder)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--n-ctx", type=int, default=8192, help="context window to serve")
    p.add_argument("--dry-run", action="store_true", help="print the server command instead of running it")
    args = p.parse_args(argv)
    ck = Path(args.checkpoint)
    if not (ck / "config.json").is_file():
        raise UserError(f"MODEL={ck} is not a checkpoint folder (no config.json); pass what `longform train` wrote")
    cmd = command(ck, args.host, args.port, args.n_ctx, has_gpu())
    print("serve: " + " ".join(cmd), file=sys.stderr)
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    os.execvp(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
