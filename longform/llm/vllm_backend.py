"""`vllm:<path>`: the vLLM offline engine in-process, for GPU batch jobs. Import-guarded: vLLM needs a GPU.

Concurrent `generate` calls are gathered into batches and run through one `LLM.chat` call each,
which is how the offline engine reaches its throughput.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from longform.errors import UserError
from longform.llm.backend import Backend
from longform.llm.types import GenParams, Message, RawCompletion, Usage


@dataclass
class _Pending:
    messages: list[Message]
    params: GenParams
    future: asyncio.Future = field(repr=False)


class VLLMBackend(Backend):
    kind = "vllm"
    supports_json_schema = True
    default_concurrency = 256

    def __init__(self, model_path: str, n_ctx: int | None = None, max_batch: int = 256, **engine_kwargs: Any):
        try:
            from vllm import LLM
        except ImportError:
            raise UserError("vllm is not installed; `pip install -e .[vllm]` on a GPU machine, or use openai:<model> --base-url against `vllm serve`") from None
        if not model_path:
            raise UserError("the vllm spec needs a model path: vllm:/path/to/model")
        self._llm = LLM(model=model_path, max_model_len=n_ctx, **engine_kwargs)
        self._tokenizer = self._llm.get_tokenizer()
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._flush_task: asyncio.Task | None = None
        n_ctx = n_ctx or self._llm.llm_engine.model_config.max_model_len
        super().__init__(model_id=f"vllm:{model_path}", n_ctx=n_ctx)

    def count_messages(self, messages: list[Message]) -> int:
        return len(self._tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True))

    def count_text(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _sampling_params(self, params: GenParams) -> Any:
        from vllm import SamplingParams

        kwargs: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stop": list(params.stop) or None,
        }
        if params.repeat_penalty is not None:
            kwargs["repetition_penalty"] = params.repeat_penalty
        if params.min_tokens:
            kwargs["min_tokens"] = min(params.min_tokens, params.max_tokens)
        if params.json_schema is not None:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(json=params.json_schema)
        return SamplingParams(**kwargs)

    async def generate(self, messages: list[Message], params: GenParams) -> RawCompletion:
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(list(messages), params, future))
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0.01)  # let concurrent callers join the batch
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                outputs = await asyncio.to_thread(
                    self._llm.chat,
                    [p.messages for p in batch],
                    [self._sampling_params(p.params) for p in batch],
                    use_tqdm=False,
                )
            except Exception as exc:  # noqa: BLE001 (hand the failure to every waiter)
                for p in batch:
                    p.future.set_exception(exc)
                continue
            for p, out in zip(batch, outputs):
                gen = out.outputs[0]
                p.future.set_result(
                    RawCompletion(
                        text=gen.text,
                        finish_reason=gen.finish_reason or "stop",
                        usage=Usage(len(out.prompt_token_ids or []), len(gen.token_ids)),
                    )
                )
