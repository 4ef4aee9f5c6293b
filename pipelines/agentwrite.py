"""AgentWrite (LongWriter's plan-then-write) as a LangGraph StateGraph with a SQLite checkpointer.

    plan -> (plan_more ...) -> write -> (write ...) -> finish -> write ... -> finish -> assemble -> END

`plan`     the planner agent: outline with budgets that add up to the target.
`plan_more` ONE more planning call while the outline has fewer distinct parts than sections.
`write`    ONE section-writer call (first draft, continuation, or regeneration of a looping chunk).
`finish`   cut/clean the section, record it, update the memory, move to the next section.
`assemble` join the sections under their headings.

Every call is its own graph step, so a checkpoint follows each call: a killed run resumes at the
call in flight and never asks again for a finished section. Loops are bounded by counters in the
state (continuations and regenerations per section; sections by the plan) and by an explicit
recursion limit computed from those bounds.

Unlike the original AgentWrite, a call never sees the whole text so far: it sees the instruction
and plan (a byte-identical prefix for every call of the run), a running summary of recent sections
and the tail of the last one. Its prompt does not grow with the manuscript.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from longform.agents import memory as memory_agent
from longform.agents import planner, section_writer
from longform.agents.section_writer import SectionSettings
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

from longform.llm import ChatModel
from longform.text import count_words, detect_language

METHOD = "agentwrite"
STATE_VERSION = 3  # raise when the graph state's fields change meaning: older checkpoints are then not resumed


@dataclass(frozen=True)
class AgentWriteSettings:
    section_words: int = 400  # a 135M model writes ~300-400 words a call before it drifts
    max_sections: int = 250
    memory_sections: int = memory_agent.DEFAULT_KEEP_SECTIONS
    digest_words: int = memory_agent.DEFAULT_DIGEST_WORDS
    tail_words: int = memory_agent.DEFAULT_TAIL_WORDS
    plan_temperature: float = 0.5
    plan_rounds: int = 3  # planning calls at most: the outline (12 sections), then "more sections" (8 a call)
    # until each part is distinct: 3 calls cover 25 sections (10k words) for a model that gives distinct titles;
    # on the embedded model a 4th round added 1 distinct part for ~5 s of a 10k-word run (measured)
    section: SectionSettings = field(default_factory=lambda: SectionSettings(short_tolerance=0.25))
    # a section short by up to 25% is not continued: the sections after it absorb the shortfall through
    # their budgets, and a continuation reads its prompt again (~1.7 s a call on the embedded model)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AgentWriteState(TypedDict, total=False):
    instruction: str
    target_words: int
    lang: str
    seed: int | None
    plan: list[dict[str, Any]]
    plan_meta: dict[str, Any]
    sections: list[dict[str, Any]]  # finished: title, text, words, budget, calls, events
    words_so_far: int  # words of the assembled manuscript so far, headings included
    index: int  # the section being written
    budget: int | None  # its budget (None: not started)
    draft: str
    calls: int  # calls made for this section
    continuations: int
    regenerations: int
    events: list[str]
    next: str
    memory: dict[str, Any]
    tokens_per_word: float
    usage: dict[str, Any]
    manuscript: str


def make_settings(options: Any) -> AgentWriteSettings:
    """Settings from the registry's generic MethodOptions (section_words)."""
    if getattr(options, "section_words", None):
        return AgentWriteSettings(section_words=options.section_words)
    return AgentWriteSettings()


def recursion_limit(target_words: int, settings: AgentWriteSettings) -> int:
    """Steps the graph may take: plan + per section (all calls + finish) + assemble, with slack."""
    n = planner.section_count(target_words, settings.section_words, settings.max_sections)
    s = settings.section
    per_section = 2 + max(s.max_continuations, s.max_continuations_last) + s.max_regenerations
    return 10 + settings.plan_rounds + n * per_section


def _section_title(plan: list[dict[str, Any]], i: int) -> str:
    return plan[i]["title"]


def assemble(sections: list[dict[str, Any]]) -> str:
    """The manuscript body: each section under its `## title`. No heading for a single section, nor
    for the later parts of a section the planner split: they go on under the first part's heading."""
    if len(sections) == 1:
        return sections[0]["text"].strip()
    blocks = []
    for s in sections:
        text = s["text"].strip()
        blocks.append(text if section_writer.is_continued_part(s["title"]) and blocks else f"## {s['title']}\n\n{text}")
    return "\n\n".join(b for b in blocks if b).strip()


def build_graph(model: ChatModel, settings: AgentWriteSettings, progress: Progress | None = None):
    """The uncompiled StateGraph; compile it with a checkpointer."""
    progress = progress or NullProgress()
    ss = settings.section

    async def plan_node(state: AgentWriteState) -> dict[str, Any]:
        target = state["target_words"]
        n = planner.section_count(target, settings.section_words, settings.max_sections)
        progress.event("plan_start", sections=n)
        sections, meta = await planner.make_plan(
            model, state["instruction"], target, n, lang=state["lang"], seed=state.get("seed"),
            temperature=settings.plan_temperature,
        )
        return {
            **_plan_step(state, sections, meta, n), "sections": [], "words_so_far": 0, "index": 0,
            "budget": None, "draft": "", "calls": 0, "continuations": 0, "regenerations": 0, "events": [],
            "memory": memory_agent.empty_memory(),
        }

    async def plan_more_node(state: AgentWriteState) -> dict[str, Any]:
        """One more planning call: the plan has fewer distinct parts than sections (bounded by plan_rounds)."""
        target = state["target_words"]
        n = planner.section_count(target, settings.section_words, settings.max_sections)
        sections, meta = await planner.extend_plan(
            model, state["instruction"], target, n, state["plan_meta"], lang=state["lang"], seed=state.get("seed"),
            temperature=max(0.7, settings.plan_temperature),
        )
        return _plan_step(state, sections, meta, n)

    def _plan_step(state: AgentWriteState, sections: list[dict[str, Any]], meta: dict[str, Any], n: int) -> dict[str, Any]:
        usage = dict(state.get("usage") or empty_usage())
        call = meta["last_call"]
        usage["calls"] += 1 + call.get("repairs", 0)
        usage["prompt_tokens"] += call["usage"]["prompt_tokens"]
        usage["completion_tokens"] += call["usage"]["completion_tokens"]
        more = planner.needs_more(meta, n, settings.plan_rounds)
        if not more:
            progress.event("plan_done", sections=len(sections), fallback=meta["fallback"], plan=sections)
        return {"plan": sections, "plan_meta": meta, "usage": usage, "next": "plan_more" if more else "write"}

    async def write_node(state: AgentWriteState) -> dict[str, Any]:
        plan, i = state["plan"], state["index"]
        budget = state.get("budget")
        if budget is None:
            budget = section_writer.section_budget(plan, i, state["words_so_far"], state["target_words"])
            progress.event("section_start", index=i, n_sections=len(plan), title=_section_title(plan, i), budget=budget)
        draft = state.get("draft", "")
        needed = max(1, budget - count_words(draft))
        tpw = state.get("tokens_per_word") or section_writer.DEFAULT_TOKENS_PER_WORD.get(state["lang"], 1.4)
        messages = section_writer.section_messages(
            instruction=state["instruction"], plan=plan, target_words=state["target_words"], index=i,
            budget=budget, memory=state["memory"], lang=state["lang"], draft=draft, words_needed=needed, settings=ss,
        )
        calls, cont, regen = state.get("calls", 0), state.get("continuations", 0), state.get("regenerations", 0)
        kind = "regen" if regen and state.get("events") and state["events"][-1] == "regenerate" else ("cont" if draft else "draft")
        tag = f"section-{i + 1}" if calls == 0 else f"section-{i + 1}:{kind}{calls}"
        history = (*(s["text"] for s in state.get("sections", [])), draft)
        c = await section_writer.write_call(
            model, messages, words_needed=needed, tokens_per_word=tpw,
            seed=section_writer.call_seed(state.get("seed"), i, calls, regen), tag=tag, settings=ss, history=history,
        )
        chunk, _ = section_writer.remove_repeats(
            section_writer.clean_chunk(c.text, plan[i]["title"]), section_writer.written_ngrams(history), ss.repeat_share,
        )
        decision = section_writer.decide_after_chunk(
            draft=draft, chunk=chunk, budget=budget, continuations=cont, regenerations=regen,
            is_last=i == len(plan) - 1, settings=ss,
        )
        section_words = count_words(decision["draft"])
        call_event(progress, c, index=i, n_sections=len(plan), section_words=section_words,
                   words_so_far=state["words_so_far"] + section_words, target_words=state["target_words"],
                   decision=decision["event"])
        return {
            "budget": budget, "draft": decision["draft"], "calls": calls + 1,
            "continuations": decision["continuations"], "regenerations": decision["regenerations"],
            "events": list(state.get("events", [])) + [decision["event"]], "next": decision["next"],
            "tokens_per_word": section_writer.update_tokens_per_word(tpw, c),
            "usage": add_usage(state.get("usage"), c),
        }

    async def finish_node(state: AgentWriteState) -> dict[str, Any]:
        plan, i = state["plan"], state["index"]
        budget = state["budget"] or 1
        text, truncated = section_writer.finalize_section(state.get("draft", ""), budget, ss, is_last=i == len(plan) - 1)
        title = _section_title(plan, i)
        words = count_words(text)
        record = {
            "index": i, "title": title, "main_point": plan[i]["main_point"], "planned_words": plan[i]["words"],
            "budget": budget, "words": words, "calls": state.get("calls", 0),
            "continuations": state.get("continuations", 0), "regenerations": state.get("regenerations", 0),
            "truncated": truncated, "events": state.get("events", []), "text": text,
        }
        sections = list(state.get("sections", [])) + [record]
        words_so_far = count_words(assemble(sections))
        mem = memory_agent.remember(
            state["memory"], title, text, keep_sections=settings.memory_sections,
            digest_words=settings.digest_words, tail_len=settings.tail_words,
        )
        progress.event("section_done", index=i, n_sections=len(plan), title=title, words=words, budget=budget,
                       words_so_far=words_so_far, target_words=state["target_words"])
        return {
            "sections": sections, "words_so_far": words_so_far, "memory": mem, "index": i + 1, "budget": None,
            "draft": "", "calls": 0, "continuations": 0, "regenerations": 0, "events": [],
            "next": "write" if i + 1 < len(plan) else "assemble",
        }

    async def assemble_node(state: AgentWriteState) -> dict[str, Any]:
        text = assemble(state.get("sections", []))
        return {"manuscript": text, "words_so_far": count_words(text), "next": "end"}

    g = StateGraph(AgentWriteState)
    g.add_node("plan", plan_node)
    g.add_node("plan_more", plan_more_node)
    g.add_node("write", write_node)
    g.add_node("finish", finish_node)
    g.add_node("assemble", assemble_node)
    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", lambda s: s["next"], {"plan_more": "plan_more", "write": "write"})
    g.add_conditional_edges("plan_more", lambda s: s["next"], {"plan_more": "plan_more", "write": "write"})
    g.add_conditional_edges("write", lambda s: s["next"], {"write": "write", "finish": "finish"})
    g.add_conditional_edges("finish", lambda s: s["next"], {"write": "write", "assemble": "assemble"})
    g.add_edge("assemble", END)
    return g


def initial_state(instruction: str, target_words: int, seed: int | None, lang: str | None = None) -> AgentWriteState:
    return {
        "instruction": instruction, "target_words": int(target_words),
        "lang": lang or detect_language(instruction), "seed": seed, "usage": empty_usage(),
    }


def result_from_state(state: dict[str, Any], resumed: bool) -> ManuscriptResult:
    sections = state.get("sections", [])
    return ManuscriptResult(
        method=METHOD, instruction=state["instruction"], target_words=state["target_words"], lang=state["lang"],
        text=state.get("manuscript", ""), words=count_words(state.get("manuscript", "")), plan=state.get("plan", []),
        plan_meta=state.get("plan_meta", {}),
        sections=[{k: v for k, v in s.items() if k != "text"} for s in sections],
        usage=state.get("usage", {}), resumed=resumed,
    )


async def run(
    model: ChatModel,
    instruction: str,
    target_words: int,
    *,
    seed: int | None = 0,
    checkpoint_path: str | Path | None = None,
    thread_id: str = "agentwrite",
    resume: bool = False,
    settings: AgentWriteSettings | None = None,
    progress: Progress | None = None,
    lang: str | None = None,
) -> ManuscriptResult:
    """Write a manuscript of about `target_words` words with AgentWrite."""
    settings = settings or AgentWriteSettings()
    graph = build_graph(model, settings, progress)
    final, resumed = await run_graph(
        lambda saver: graph.compile(checkpointer=saver),
        initial_state(instruction, target_words, seed, lang),
        checkpoint_path=checkpoint_path, thread_id=thread_id,
        recursion_limit=recursion_limit(target_words, settings), resume=resume,
        version=fingerprint(STATE_VERSION, settings),
    )
    return result_from_state(final, resumed)
