"""direct: the baseline. One call with the instruction; max_tokens as large as the window allows,
but never more than 4x the target's tokens: past 4x the target, S_l is 0 whatever follows, so a
longer budget only lets a looping model burn minutes without changing the result.

A LangGraph StateGraph (write -> END) with the same SQLite checkpointer as every pipeline, so
`--resume` behaves the same for every method: a finished call is never requested again.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from longform.pipelines.graph_support import (
    ManuscriptResult,
    NullProgress,
    Progress,
    add_usage,
    call_event,
    empty_usage,
    fingerprint,
    run_graph,
)

from longform.llm import ChatModel, GenParams
from longform.prompting import render_messages
from longform.text import count_words, detect_language, trim_incomplete_tail

METHOD = "direct"
STATE_VERSION = 2  # raise when the graph state's fields change meaning: older checkpoints are then not resumed
PROMPT = "direct"
RECURSION_LIMIT = 5
WINDOW_MARGIN_TOKENS = 64
MAX_TARGET_MULTIPLE = 4  # S_l = 0 at 4x the target
TOKENS_PER_WORD = {"en": 1.35, "zh": 1.6}


def make_settings(options: Any) -> None:
    """direct has no settings."""
    return


class DirectState(TypedDict, total=False):
    instruction: str
    target_words: int
    lang: str
    seed: int | None
    manuscript: str
    finish_reason: str
    usage: dict[str, Any]


def build_graph(model: ChatModel, progress: Progress | None = None, temperature: float = 0.7,
                repeat_penalty: float | None = 1.1):
    progress = progress or NullProgress()

    async def write_node(state: DirectState) -> dict[str, Any]:
        messages = render_messages(PROMPT, state["lang"], instruction=state["instruction"],
                                   target_words=state["target_words"])
        prompt_tokens = sum(model.count_text(m["content"]) for m in messages) + 16
        window = model.n_ctx - prompt_tokens - WINDOW_MARGIN_TOKENS  # the layer caps it further (3/4 n_ctx)
        ceiling = math.ceil(MAX_TARGET_MULTIPLE * state["target_words"] * TOKENS_PER_WORD.get(state["lang"], 1.4))
        max_tokens = max(64, min(window, ceiling))
        progress.event("section_start", index=0, n_sections=1, title="(direct)", budget=state["target_words"])
        c = await model.complete(
            messages,
            GenParams(max_tokens=max_tokens, temperature=temperature, top_p=0.95, seed=state.get("seed"),
                      repeat_penalty=repeat_penalty),
            tag="direct",
        )
        text = trim_incomplete_tail(c.text.strip()).strip()
        words = count_words(text)
        call_event(progress, c, index=0, n_sections=1, section_words=words, words_so_far=words,
                   target_words=state["target_words"], decision="done")
        progress.event("section_done", index=0, n_sections=1, title="(direct)", words=words,
                       budget=state["target_words"], words_so_far=words, target_words=state["target_words"])
        return {"manuscript": text, "finish_reason": c.finish_reason, "usage": add_usage(state.get("usage"), c)}

    g = StateGraph(DirectState)
    g.add_node("write", write_node)
    g.add_edge(START, "write")
    g.add_edge("write", END)
    return g


async def run(
    model: ChatModel,
    instruction: str,
    target_words: int,
    *,
    seed: int | None = 0,
    checkpoint_path: str | Path | None = None,
    thread_id: str = "direct",
    resume: bool = False,
    progress: Progress | None = None,
    lang: str | None = None,
    settings: Any = None,
) -> ManuscriptResult:
    graph = build_graph(model, progress)
    state: DirectState = {
        "instruction": instruction, "target_words": int(target_words),
        "lang": lang or detect_language(instruction), "seed": seed, "usage": empty_usage(),
    }
    final, resumed = await run_graph(
        lambda saver: graph.compile(checkpointer=saver), state, checkpoint_path=checkpoint_path,
        thread_id=thread_id, recursion_limit=RECURSION_LIMIT, resume=resume,
        version=fingerprint(STATE_VERSION, settings),
    )
    text = final.get("manuscript", "")
    return ManuscriptResult(
        method=METHOD, instruction=final["instruction"], target_words=final["target_words"], lang=final["lang"],
        text=text, words=count_words(text),
        sections=[{"index": 0, "title": "(direct)", "words": count_words(text), "calls": 1,
                   "finish_reason": final.get("finish_reason")}],
        usage=final.get("usage", {}), resumed=resumed,
    )
