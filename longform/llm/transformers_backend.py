"""`transformers:<path>`: a local checkpoint run in-process by `transformers` (what `longform train`
writes), on the GPU when one is visible, else on the CPU. Weights are read as safetensors only.

A folder holding a PEFT adapter (adapter_config.json) is loaded over the base it records and
merged. The chat template comes from the checkpoint's tokenizer. Sampling honours max_tokens,
temperature, top_p, seed, stop and repeat_penalty; JSON schemas are not enforced while decoding
(the shared layer validates, repairs and falls back). The model id carries a digest of the weight
files, so the request cache never answers for an earlier checkpoint written to the same path.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from longform.errors import ModelError, UserError
from longform.llm.backend import Backend
from longform.llm.types import GenParams, Message, RawCompletion, Usage

# One thread runs every generation: torch's intra-op pool already uses the cores.
TORCH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transformers")


def weights_digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")):
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def _load(path: Path, device: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    adapter = path / "adapter_config.json"
    if adapter.is_file():
        from peft import PeftModel

        base = json.loads(adapter.read_text()).get("base_model_name_or_path")
        if not base:
            raise UserError(f"{adapter} names no base model; merge the adapter or fix base_model_name_or_path")
        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, use_safetensors=True)
        model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    return model.to(device).eval(), tokenizer


class TransformersBackend(Backend):
    kind = "transformers"
    supports_json_schema = False
    default_concurrency = 1

    def __init__(self, model_path: str, n_ctx: int | None = None, n_threads: int | None = None):
        path = Path(model_path).expanduser()
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            raise UserError(f"transformers:{model_path}: no checkpoint folder there (no config.json); "
                            "pass a folder written by `longform train` or `save_pretrained`")
        if not any(path.glob("*.safetensors")):
            raise UserError(f"transformers:{model_path}: no .safetensors weights (other formats are not loaded)")
        try:
            import torch
        except ImportError:
            raise UserError("the transformers backend needs the training extras: pip install -e '.[train]'") from None
        if n_threads:
            torch.set_num_threads(n_threads)
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model, self._tok = _load(path, self.device)
        if not self._tok.chat_template:
            raise UserError(f"transformers:{model_path}: the tokenizer has no chat template; use an instruct checkpoint")
        gen_eos = getattr(self._model.generation_config, "eos_token_id", None)
        self._eos = {t for t in (gen_eos if isinstance(gen_eos, list) else [gen_eos]) if t is not None}
        self._eos.add(self._tok.eos_token_id)
        self._lock = threading.Lock()
        self.path = path
        window = int(getattr(self._model.config, "max_position_embeddings", 0) or 4096)
        super().__init__(model_id=f"transformers:{path.name}@{weights_digest(path)}", n_ctx=min(n_ctx or window, window))

    def _prompt_ids(self, messages: list[Message]) -> list[int]:
        ids = self._tok.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
        if hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)

    def count_messages(self, messages: list[Message]) -> int:
        return len(self._prompt_ids(messages))

    def count_text(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False))

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        return await asyncio.get_running_loop().run_in_executor(TORCH_THREAD, self._generate_sync, messages, params)

    def _generate_sync(self, messages: list[Message], params: GenParams) -> RawCompletion:
        import torch

        ids = self._prompt_ids(messages)
        room = self.n_ctx - len(ids)
        if room <= 0:
            raise ModelError(f"the prompt ({len(ids)} tokens) fills the {self.n_ctx}-token context of {self.model_id}")
        max_new = min(params.max_tokens, room)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": self._tok.pad_token_id or self._tok.eos_token_id}
        if params.temperature and params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False)
        if params.repeat_penalty:
            kwargs["repetition_penalty"] = params.repeat_penalty
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self._tok)
        with self._lock, torch.no_grad():
            if params.seed is not None:
                torch.manual_seed(params.seed)
            input_ids = torch.tensor([ids], device=self.device)
            out = self._model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **kwargs)
        new = out[0][len(ids):].tolist()
        text = self._tok.decode(new, skip_special_tokens=True)
        stopped = bool(new) and new[-1] in self._eos
        for s in params.stop:
            cut = text.find(s)
            if cut >= 0:
                text, stopped = text[:cut], True
        finish = "length" if not stopped and len(new) >= max_new else "stop"
        return RawCompletion(text=text, finish_reason=finish, usage=Usage(len(ids), len(new)))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path), "device": self.device}
