"""Step 1 of an iteration: new instructions that call for long output, from seed instructions.

As in QwenLM/Self-Lengthen `step0_self_instruct`: two instructions drawn from the pool are shown as
examples and the instructor writes a third (`selflengthen_instruct`, ONE call); a judge call
(`selflengthen_judge`, structured yes/no, ONE call) keeps the ones suitable for a long text; kept
ones join the pool. The program adds what a weak instructor cannot be trusted with: bounds on the
length of the instruction, no duplicates, and no instruction that states a short length
(`longform.lengths.parse_length`). Every proposal is bounded: `count x max_tries` at most.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longform.agents.response_check import is_meta
from longform.errors import UserError
from longform.instructions import load_instructions
from longform.lengths import parse_length
from longform.llm import ChatModel, GenParams
from longform.prompting import load_schema, render_messages
from longform.text import count_words, detect_language

PROMPT = "selflengthen_instruct"
JUDGE_PROMPT = "selflengthen_judge"
JUDGE_SCHEMA = "selflengthen_judge"

_LABEL = re.compile(r"^\s*(?:\*\*)?\s*(?:(?:new\s+)?(?:instructions?|prompt|task|title)\s*\d*|指令\s*\d*|题目|标题)\s*[:：]\s*(?:\*\*)?\s*",
                    re.IGNORECASE)


@dataclass
class Seed:
    instruction: str
    lang: str


def load_seeds(path: str | Path) -> list[Seed]:
    """The usable seed instructions of a file; a UserError naming the fix when there are none."""
    try:
        rows, _ = load_instructions(path, default_target_words=1, skip_invalid=True)
    except UserError as exc:
        raise UserError(f"seed file {path} has no usable instructions ({exc}); add JSONL rows with an "
                        "`instruction`, `prompt` or `query` field") from None
    return [Seed(r.instruction, r.lang) for r in rows]


def clean_proposal(text: str) -> str:
    """The proposal's first paragraph without an "Instruction 3:" label or quotes."""
    first = next((p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()), "")
    first = _LABEL.sub("", first).strip().strip('"“”').strip()
    return " ".join(first.split()) if detect_language(first) == "en" else first.replace("\n", "")


def norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def program_check(text: str, pool: set[str], *, min_words: int, max_words: int, min_stated_words: int) -> str | None:
    """Why a proposal is dropped before the judge sees it, or None."""
    n = count_words(text)
    if n < min_words:
        return "too_short"
    if n > max_words:
        return "too_long"
    if norm(text) in pool:
        return "duplicate"
    if is_meta(text):
        return "meta_text"  # "Here is a rewritten version of the instructions: ..."
    spec = parse_length(text)
    if spec is not None and spec.hi < min_stated_words:
        return "states_short_length"
    return None


def call_seed(base: int, iteration: int, attempt: int, which: int) -> int:
    key = f"{base}:{iteration}:{attempt}:{which}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % (2**31 - 1)


async def propose(model: ChatModel, pool: list[Seed], *, rng: random.Random, seed: int, max_tokens: int,
                  temperature: float, tag: str) -> tuple[str, str, Any]:
    """ONE call: (cleaned proposal, its language, completion). Examples share a language when possible."""
    first = rng.choice(pool)
    same = [s for s in pool if s.lang == first.lang and s.instruction != first.instruction]
    second = rng.choice(same or [s for s in pool if s.instruction != first.instruction] or pool)
    msgs = render_messages(PROMPT, first.lang, example1=first.instruction, example2=second.instruction)
    c = await model.complete(msgs, GenParams(max_tokens=max_tokens, temperature=temperature, top_p=0.95, seed=seed,
                                             repeat_penalty=1.1), tag=tag)
    return clean_proposal(c.text), first.lang, c


async def judge(model: ChatModel, instruction: str, lang: str, *, seed: int, tag: str) -> tuple[bool, bool]:
    """ONE structured call: (suitable for a long text?, fell back?). The fallback is "no"."""
    msgs = render_messages(JUDGE_PROMPT, lang, instruction=instruction)
    c = await model.complete(msgs, GenParams(max_tokens=24, temperature=0.0, seed=seed, json_schema=load_schema(JUDGE_SCHEMA)),
                             fallback=lambda: {"answer": "no"}, tag=tag)
    return (c.parsed or {}).get("answer") == "yes", c.fallback
