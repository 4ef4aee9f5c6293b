"""Self-Lengthen's generator: writes the first response to an instruction, in one call.

Prompt `selflengthen_generate` (system: a plain assistant; user: the instruction, and the target
length when one is stated by the caller). No output schema: prose. The same messages are the
generator's training format (`training_messages`), so a generator trained by the iterate loop is
asked exactly as it was taught.

The reply is cleaned by the program: lines that talk about the task or are in another language
are dropped, so are sentences that repeat a long n-gram, and an unfinished last sentence goes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from longform.agents.response_check import CheckResult, check_response, clean_chunk, drop_repeating_sentences

from longform.llm import ChatModel, Completion, GenParams, Message
from longform.prompting import render_messages
from longform.text import count_words, trim_incomplete_tail

PROMPT = "selflengthen_generate"
SCHEMA = None  # prose

TOKENS_PER_WORD = {"en": 1.35, "zh": 1.6}


@dataclass(frozen=True)
class GeneratorSettings:
    """Sampling and bounds of the first response."""

    max_tokens: int = 1024  # the first response is what the model writes unaided; bounded per call
    temperature: float = 0.7
    top_p: float = 0.95
    repeat_penalty: float | None = 1.1
    state_target: bool = True  # tell the model the target length (off: the instruction alone, as the original)


def messages(instruction: str, lang: str, target_words: int | None = None) -> list[Message]:
    """The generator's prompt; `target_words` None leaves the length to the instruction."""
    return render_messages(PROMPT, lang, instruction=instruction, target_words=target_words or 0)


def training_messages(instruction: str, response: str, lang: str, target_words: int | None = None) -> list[Message]:
    """An SFT example for the generator: its prompt -> `response` (the extended text)."""
    return [*messages(instruction, lang, target_words), {"role": "assistant", "content": response}]


def max_tokens(target_words: int, lang: str, settings: GeneratorSettings) -> int:
    """At most settings.max_tokens, and never more than 1.5x the target's tokens."""
    want = math.ceil(1.5 * target_words * TOKENS_PER_WORD.get(lang, 1.4)) + 16
    return max(64, min(settings.max_tokens, want))


def clean(text: str, lang: str) -> str:
    """Meta and other-language lines dropped, sentences repeating a long n-gram dropped, unfinished tail dropped."""
    text = clean_chunk(text, lang)
    text = drop_repeating_sentences("", text, lang)
    return trim_incomplete_tail(text).strip()


async def write(
    model: ChatModel,
    instruction: str,
    lang: str,
    *,
    target_words: int,
    seed: int | None,
    settings: GeneratorSettings = GeneratorSettings(),
    tag: str = "generate",
) -> tuple[str, CheckResult, Completion]:
    """One call: (cleaned first response, its check, the completion)."""
    msgs = messages(instruction, lang, target_words if settings.state_target else None)
    params = GenParams(
        max_tokens=max_tokens(target_words, lang, settings), temperature=settings.temperature,
        top_p=settings.top_p, seed=seed, repeat_penalty=settings.repeat_penalty,
    )
    c = await model.complete(msgs, params, tag=tag)
    text = clean(c.text, lang)
    return text, check_response(text, lang), c


def better(a: str, b: str, lang: str) -> str:
    """The better of two first responses: a passing one over a failing one, then the longer."""
    ka = (check_response(a, lang).passed, count_words(a))
    kb = (check_response(b, lang).passed, count_words(b))
    return a if ka >= kb else b
