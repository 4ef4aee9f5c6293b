"""Self-Lengthen (Quan et al., QwenLM/Self-Lengthen) as a LangGraph StateGraph with a SQLite checkpointer.

    generate -> (generate ...) -> expand -> continue -> (continue ...) -> judge -> expand ... -> finish -> END

`generate`  the generator writes a first response (ONE call); a response that fails the check is
            written again with a new seed (bounded by `gen_tries`), the best one is kept.
`expand`    the extender expands the current text's first half (ONE call) and keeps 2/3 of it.
`continue`  ONE continuation of the round's text: by default the expansion of the next piece of
            the rest of the text ("rest"), or as the original with the whole text as the outline
            ("whole"); repeated while the round is short of its goal (bounded: see the extender).
`judge`     no call: the round's text is kept if it grew and passes the check (ends a sentence,
            no repeated 10-word / 13-character n-gram, no meta text); then another round, or finish.
`finish`    the manuscript (cut at a paragraph or sentence end when past the target).

Rounds go on until the target is reached or `max_rounds` rounds were made. Every step is one call
(or none) followed by a checkpoint, so a killed run resumes at the call in flight. `run(...,
first_response=TEXT, extender=MODEL)` skips the generator and extends TEXT with another model: the
iterate loop generates and extends with different checkpoints.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from longform.agents import extender as ext
from longform.agents import generator as gen
from longform.agents.extender import ExtenderSettings
from longform.agents.generator import GeneratorSettings
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

from longform.errors import UserError
from longform.llm import ChatModel
from longform.text import count_words, detect_language

METHOD = "selflengthen"
STATE_VERSION = 2  # raise when the graph state's fields change meaning: older checkpoints are then not resumed


@dataclass(frozen=True)
class SelfLengthenSettings:
    """The generator's and the extender's settings, and the generator's retry bound."""

    gen_tries: int = 3  # first responses written at most (a failing one is written again)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    extender: ExtenderSettings = field(default_factory=ExtenderSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_settings(options: Any) -> SelfLengthenSettings:
    """Settings from the registry's MethodOptions: `max_rounds`, and `extra` keys named as the fields of
    SelfLengthenSettings, GeneratorSettings or ExtenderSettings (e.g. growth, state_target, gen_tries);
    `extra` may hold them under a `selflengthen` key."""
    extra = dict(getattr(options, "extra", None) or {})
    if isinstance(extra.get(METHOD), dict):
        extra = dict(extra[METHOD])
    top = {f.name for f in dataclasses.fields(SelfLengthenSettings)} - {"generator", "extender"}
    g_names = {f.name for f in dataclasses.fields(GeneratorSettings)}
    e_names = {f.name for f in dataclasses.fields(ExtenderSettings)}
    unknown = sorted(set(extra) - top - g_names - e_names)
    if unknown:
        raise UserError(f"selflengthen: unknown setting(s) {', '.join(unknown)}; valid: "
                        f"{', '.join(sorted(top | g_names | e_names))}")
    e_kw = {k: v for k, v in extra.items() if k in e_names}
    if getattr(options, "max_rounds", None) is not None:
        e_kw["max_rounds"] = options.max_rounds
    if e_kw.get("max_rounds", 1) < 0:
        raise UserError(f"selflengthen: max_rounds must be >= 0, got {e_kw['max_rounds']}")
    # a key in both generator and extender (temperature, ...) sets both
    return SelfLengthenSettings(
        **{k: v for k, v in extra.items() if k in top},
        generator=GeneratorSettings(**{k: v for k, v in extra.items() if k in g_names}),
        extender=ExtenderSettings(**e_kw),
    )


class SelfLengthenState(TypedDict, total=False):
    instruction: str
    target_words: int
    lang: str
    seed: int | None
    first_response: str  # the generator's (kept) first response
    gen_tries: int
    gen_checks: list[dict[str, Any]]
    text: str  # the current (last kept) text
    round: int  # rounds finished (kept or not)
    rounds: list[dict[str, Any]]
    outline: str  # "whole" mode: this round's outline (fixed for its calls: a stable prompt prefix)
    pieces: list[str]  # "rest" mode: the rest of the text, piece by piece
    piece: int  # the piece the next continuation expands
    goal: int
    draft: str  # this round's text so far
    expanded_words: int  # words kept from the expansion
    round_calls: int  # continuation calls this round
    round_call_limit: int  # ... at most (set when the round starts)
    round_stalls: int  # continuations in a row that added next to nothing
    round_events: list[str]
    next: str
    usage: dict[str, Any]
    manuscript: str


def recursion_limit(settings: SelfLengthenSettings, target_words: int) -> int:
    """Steps the graph may take: the generator's tries, then per round expand + its calls + judge."""
    e = settings.extender
    calls = ext.round_call_limit(target_words, e)  # no round aims past the target
    return 10 + settings.gen_tries + e.max_rounds * (2 + calls)


def _after_text(state: SelfLengthenState, settings: SelfLengthenSettings) -> str:
    """What follows a kept text: another round, or finish (target reached or rounds spent)."""
    words = count_words(state.get("text", ""))
    if ext.reached(words, state["target_words"], settings.extender) or state.get("round", 0) >= settings.extender.max_rounds:
        return "finish"
    return "expand"


def build_graph(model: ChatModel, settings: SelfLengthenSettings, progress: Progress | None = None,
                extender: ChatModel | None = None):
    """The uncompiled StateGraph; compile it with a checkpointer. `extender` defaults to `model`."""
    progress = progress or NullProgress()
    xm = extender or model
    es = settings.extender
    n_steps = es.max_rounds + 1

    async def generate_node(state: SelfLengthenState) -> dict[str, Any]:
        tries = state.get("gen_tries", 0)
        if tries == 0:
            progress.event("section_start", index=0, n_sections=n_steps, title="first response",
                           budget=state["target_words"])
        text, check, c = await gen.write(
            model, state["instruction"], state["lang"], target_words=state["target_words"],
            seed=ext.call_seed(state.get("seed"), 0, 900 + tries), settings=settings.generator,
            tag="generate" if tries == 0 else f"generate:retry{tries}",
        )
        best = gen.better(state.get("text", ""), text, state["lang"]) if tries else text
        tries += 1
        checks = [*state.get("gen_checks", []), {"words": count_words(text), **check.to_dict()}]
        words = count_words(best)
        call_event(progress, c, index=0, n_sections=n_steps, section_words=words, words_so_far=words,
                   target_words=state["target_words"], decision="done" if check.passed else "retry")
        out: dict[str, Any] = {"text": best, "first_response": best, "gen_tries": tries, "gen_checks": checks,
                               "usage": add_usage(state.get("usage"), c), "round": 0, "rounds": []}
        if not check.passed and tries < settings.gen_tries:
            out["next"] = "generate"
            return out
        progress.event("section_done", index=0, n_sections=n_steps, title="first response", words=words,
                       budget=state["target_words"], words_so_far=words, target_words=state["target_words"])
        out["next"] = _after_text({**state, **out}, settings)
        return out

    async def expand_node(state: SelfLengthenState) -> dict[str, Any]:
        r, text, lang = state.get("round", 0), state["text"], state["lang"]
        current = count_words(text)
        goal = ext.round_goal(current, state["target_words"], es)
        progress.event("section_start", index=r + 1, n_sections=n_steps, title=f"round {r + 1}", budget=goal)
        former = ext.first_half(text)
        kept, c = await ext.expand_call(xm, state["instruction"], former, lang,
                                        seed=ext.call_seed(state.get("seed"), r + 1, 0), settings=es,
                                        tag=f"round-{r + 1}:expand")
        call_event(progress, c, index=r + 1, n_sections=n_steps, section_words=count_words(kept),
                   words_so_far=current, target_words=state["target_words"], decision="expand")
        if es.continue_mode == "whole":
            outline, pieces = ext.outline_for(text, ext.outline_budget_words(xm.n_ctx, lang, es), lang), []
        else:
            outline, pieces = "", ext.rest_pieces(text, es.rest_piece_words)
        more = es.continue_mode == "whole" or bool(pieces)
        return {"outline": outline, "pieces": pieces, "piece": 0, "goal": goal, "draft": kept,
                "expanded_words": count_words(kept), "round_call_limit": ext.round_call_limit(goal, es),
                "round_calls": 0, "round_stalls": 0,
                "round_events": [f"expand:{count_words(former)}->{count_words(kept)}"],
                "next": "continue" if more and count_words(kept) < goal else "judge",
                "usage": add_usage(state.get("usage"), c)}

    async def continue_node(state: SelfLengthenState) -> dict[str, Any]:
        r, lang, draft, goal = state.get("round", 0), state["lang"], state.get("draft", ""), state["goal"]
        calls = state.get("round_calls", 0) + 1
        seed, tag = ext.call_seed(state.get("seed"), r + 1, calls), f"round-{r + 1}:continue{calls}"
        pieces, k = state.get("pieces") or [], state.get("piece", 0)
        if es.continue_mode == "whole":
            chunk, c = await ext.continue_call(xm, state["instruction"], state["outline"], draft,
                                               max(1, goal - count_words(draft)), lang, seed=seed, settings=es, tag=tag)
            left = None
        else:
            chunk, c = await ext.rest_call(xm, state["instruction"], pieces[k], draft, lang, last=k == len(pieces) - 1,
                                           seed=seed, settings=es, tag=tag)
            left = len(pieces) - k - 1
        d = ext.after_continue(draft, chunk, goal, calls, state.get("round_stalls", 0), es,
                               state.get("round_call_limit"), left)
        call_event(progress, c, index=r + 1, n_sections=n_steps, section_words=count_words(d["draft"]),
                   words_so_far=count_words(state["text"]), target_words=state["target_words"], decision=d["event"])
        return {"draft": d["draft"], "round_calls": calls, "round_stalls": d["stalls"], "next": d["next"],
                "piece": k + 1 if d["advance"] else k,
                "round_events": [*state.get("round_events", []), f"{d['event']}:+{d['added']}"],
                "usage": add_usage(state.get("usage"), c)}

    async def judge_node(state: SelfLengthenState) -> dict[str, Any]:
        r, text = state.get("round", 0), state["text"]
        f = ext.finish_round(text, state.get("draft", ""), state["target_words"], state["lang"], es)
        record = {
            "round": r + 1, "before": count_words(text), "goal": state["goal"], "expanded": state.get("expanded_words", 0),
            "candidate": f["words"], "calls": 1 + state.get("round_calls", 0), "kept": f["kept"],
            "reasons": f["reasons"], "cut": f["cut"], "repeated": f["repeated"], "events": state.get("round_events", []),
        }
        new_text = f["text"] if f["kept"] else text
        out: dict[str, Any] = {"text": new_text, "round": r + 1, "rounds": [*state.get("rounds", []), record],
                               "draft": "", "outline": "", "pieces": []}
        words = count_words(new_text)
        progress.event("section_done", index=r + 1, n_sections=n_steps,
                       title=f"round {r + 1} {'kept' if f['kept'] else 'rejected: ' + ', '.join(f['reasons'])}",
                       words=f["words"], budget=state["goal"], words_so_far=words, target_words=state["target_words"])
        out["next"] = _after_text({**state, **out}, settings)
        return out

    async def finish_node(state: SelfLengthenState) -> dict[str, Any]:
        text, _ = ext.cut_to_target(state.get("text", "").strip(), state["target_words"], es)
        return {"manuscript": text, "next": "end"}

    g = StateGraph(SelfLengthenState)
    g.add_node("generate", generate_node)
    g.add_node("expand", expand_node)
    g.add_node("continue", continue_node)
    g.add_node("judge", judge_node)
    g.add_node("finish", finish_node)
    g.add_conditional_edges(START, lambda s: "generate" if not s.get("first_response") else _after_text(s, settings),
                            {"generate": "generate", "expand": "expand", "finish": "finish"})
    g.add_conditional_edges("generate", lambda s: s["next"], {"generate": "generate", "expand": "expand", "finish": "finish"})
    g.add_conditional_edges("expand", lambda s: s["next"], {"continue": "continue", "judge": "judge"})
    g.add_conditional_edges("continue", lambda s: s["next"], {"continue": "continue", "judge": "judge"})
    g.add_conditional_edges("judge", lambda s: s["next"], {"expand": "expand", "finish": "finish"})
    g.add_edge("finish", END)
    return g


def initial_state(instruction: str, target_words: int, seed: int | None, lang: str | None = None,
                  first_response: str | None = None) -> SelfLengthenState:
    state: SelfLengthenState = {
        "instruction": instruction, "target_words": int(target_words),
        "lang": lang or detect_language(instruction), "seed": seed, "usage": empty_usage(), "round": 0, "rounds": [],
    }
    if first_response is not None:
        text = first_response.strip()
        state.update(first_response=text, text=text, gen_tries=0, gen_checks=[])
    return state


def result_from_state(state: dict[str, Any], resumed: bool) -> ManuscriptResult:
    text = state.get("manuscript", "")
    first = state.get("first_response", "")
    rounds = state.get("rounds", [])
    sections = [{"index": 0, "title": "first response", "words": count_words(first), "calls": state.get("gen_tries", 0),
                 "checks": state.get("gen_checks", [])}]
    sections += [{"index": rd["round"], "title": f"round {rd['round']}", "words": rd["candidate"], **rd} for rd in rounds]
    meta = {
        "first_response": first, "first_words": count_words(first), "final_words": count_words(text),
        "rounds": len(rounds), "kept_rounds": sum(1 for rd in rounds if rd["kept"]),
    }
    return ManuscriptResult(
        method=METHOD, instruction=state["instruction"], target_words=state["target_words"], lang=state["lang"],
        text=text, words=count_words(text), plan=[], plan_meta=meta, sections=sections,
        usage=state.get("usage", {}), resumed=resumed,
    )


async def run(
    model: ChatModel,
    instruction: str,
    target_words: int,
    *,
    seed: int | None = 0,
    checkpoint_path: str | Path | None = None,
    thread_id: str = "selflengthen",
    resume: bool = False,
    settings: SelfLengthenSettings | None = None,
    progress: Progress | None = None,
    lang: str | None = None,
    first_response: str | None = None,
    extender: ChatModel | None = None,
) -> ManuscriptResult:
    """Write (or, given `first_response`, extend) a text of about `target_words` words."""
    settings = settings or SelfLengthenSettings()
    graph = build_graph(model, settings, progress, extender)
    final, resumed = await run_graph(
        lambda saver: graph.compile(checkpointer=saver),
        initial_state(instruction, target_words, seed, lang, first_response),
        checkpoint_path=checkpoint_path, thread_id=thread_id,
        recursion_limit=recursion_limit(settings, target_words), resume=resume,
        version=fingerprint(STATE_VERSION, settings),
    )
    return result_from_state(final, resumed)
