"""A reward model trained by `longform train rm`, loaded as a scorer.

    from longform.reward_models.trained_rm import load_reward_model
    rm = load_reward_model("out/train/rm")
    rm.score("Write about tea.", "Tea is ...")          # raw score (a logit): higher is better
    rm.score_many([(instruction, response), ...])

The folder holds a one-output sequence-classification model in safetensors with its tokenizer and
chat template. The (instruction, response) pair is rendered with that chat template exactly as the
trainer rendered its chosen/rejected conversations. Weights are read as safetensors only.
A text longer than the model's context is scored on its first `max_tokens` tokens; `truncated`
counts how often that happened (the RM cannot read past its context).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from longform.errors import UserError

__all__ = ["TrainedRewardModel", "load_reward_model"]


class TrainedRewardModel:
    """Implements `longform.reward_models.quality.RewardModelScorer`."""

    def __init__(self, path: str | Path, threads: int | None = None, batch_size: int = 4, device: str | None = None):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        p = Path(path)
        if not (p / "config.json").is_file():
            raise UserError(f"{p} is not a reward-model folder (no config.json); train one with `longform train rm`")
        if not any(p.glob("*.safetensors")):
            raise UserError(f"{p} holds no .safetensors weights; only safetensors checkpoints are loaded")
        if threads:
            torch.set_num_threads(threads)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(str(p))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(p), use_safetensors=True)
        if self.model.config.num_labels != 1:
            raise UserError(f"{p} is a classifier with {self.model.config.num_labels} outputs, not a reward model "
                            "(one output); pass a folder written by `longform train rm`")
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.model.to(self.device).eval()
        self.max_tokens = int(getattr(self.model.config, "max_position_embeddings", 0) or 8192)
        self.batch_size = batch_size
        self.path = p
        self.truncated = 0
        self._lock = threading.Lock()

    def _ids(self, messages: list[dict[str, str]]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(messages, tokenize=True)
        if hasattr(ids, "keys"):
            ids = ids["input_ids"]
        if len(ids) > self.max_tokens:
            self.truncated += 1
            ids = ids[: self.max_tokens]
        return list(ids)

    def score_conversations(self, conversations: Sequence[list[dict[str, str]]]) -> list[float]:
        """Raw scores of whole conversations (user then assistant messages)."""
        import torch

        out: list[float] = []
        with self._lock, torch.no_grad():
            for start in range(0, len(conversations), self.batch_size):
                batch = [self._ids(c) for c in conversations[start : start + self.batch_size]]
                width = max(len(b) for b in batch)
                pad = self.model.config.pad_token_id
                input_ids = torch.tensor([b + [pad] * (width - len(b)) for b in batch], device=self.device)
                mask = torch.tensor([[1] * len(b) + [0] * (width - len(b)) for b in batch], device=self.device)
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits
                out += [float(x) for x in logits[:, 0].float().cpu()]
        return out

    def score(self, instruction: str, response: str) -> float:
        return self.score_many([(instruction, response)])[0]

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return self.score_conversations([[{"role": "user", "content": i}, {"role": "assistant", "content": r}]
                                         for i, r in pairs])

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "max_tokens": self.max_tokens, "truncated": self.truncated}


def load_reward_model(path: str | Path, threads: int | None = None) -> TrainedRewardModel:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise UserError(f"a trained reward model needs the training extras (pip install -e '.[train]'): {exc}") from None
    return TrainedRewardModel(path, threads=threads)
