"""Build a tiny Llama model and a word-level tokenizer locally (no hub, no network) and run one
TRL SFT step and one DPO step on a dataset folder written by `longform dataset build`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]


def tiny_tokenizer(texts: list[str]) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=SPECIALS, vocab_size=4000))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
                                   eos_token="<|end|>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(vocab_size: int) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                      intermediate_size=64, vocab_size=vocab_size, max_position_embeddings=1024,
                      pad_token_id=0, bos_token_id=2, eos_token_id=7)
    return LlamaForCausalLM(cfg)


def _texts(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        for key in ("messages", "prompt", "chosen", "rejected"):
            for m in r.get(key) or []:
                out.append(m["content"])
    return out


def tiny_trl_steps(dataset_dir: str | Path, work: str | Path) -> dict[str, float]:
    """One SFTTrainer step on sft/ and one DPOTrainer step on dpo/; returns their training losses."""
    from datasets import load_dataset
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    dataset_dir, work = Path(dataset_dir), Path(work)
    sft = load_dataset("parquet", data_dir=str(dataset_dir / "sft"), split="train")
    dpo = load_dataset("parquet", data_dir=str(dataset_dir / "dpo"), split="train")
    tok = tiny_tokenizer(_texts(list(sft)) + _texts(list(dpo)))
    common = {"max_steps": 1, "per_device_train_batch_size": 1, "report_to": "none", "use_cpu": True, "save_strategy": "no",
                  "logging_steps": 1, "max_length": 256, "disable_tqdm": True, "dataloader_num_workers": 0}
    losses: dict[str, float] = {}
    trainer = SFTTrainer(model=tiny_model(len(tok)), args=SFTConfig(output_dir=str(work / "sft"), **common),
                         train_dataset=sft, processing_class=tok)
    losses["sft"] = trainer.train().training_loss
    trainer = DPOTrainer(model=tiny_model(len(tok)), ref_model=tiny_model(len(tok)), args=DPOConfig(output_dir=str(work / "dpo"), **common),
                         train_dataset=dpo, processing_class=tok)
    losses["dpo"] = trainer.train().training_loss
    return losses
