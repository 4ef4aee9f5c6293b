"""CogWriter (Wan et al., "A Cognitive Writing Perspective for Constrained Long-Form Text Generation")
as a LangGraph StateGraph with the SQLite checkpointer.

    requirements -> overview -> Send(plan_batch) per batch of units (or parts) -> collect_plan
      -> review_plan [-> repair_plan -> review_plan]
      -> Send(write_unit) per unit ... -> monitor -> Send(write_unit) for short units ... -> review
      -> Send(check_unit) per unit with model-checked constraints -> review
      -> Send(revise_unit) per failing unit -> monitor -> ... -> review -> ... -> assemble -> END

`requirements` the units (20 weeks, 12 floors) and constraints: from JSON, else from the instruction
             (literal findings + the model's grounded extraction); contradictions are UserErrors.
`overview`   the global plan (prose).      `plan_batch` plan items for a batch of units (in parallel).
`review_plan` checks the plan against the requirements; bounded repair rounds, then the program.
`write_unit` ONE call for one unit (draft, continuation or regeneration), all units in parallel
             (LangGraph `Send` fan-out; the LLM layer's concurrency limit bounds the calls in flight).
`monitor`    length within ±10% of the unit's budget by bounded continuations and cuts (no call).
`review`     literal constraints by rule; `check_unit` ONE model call for the others; failing units
             get `revise_unit` (ONE call: one more paragraph), at most `max_rounds` rounds.
`assemble`   the units under their headings ("## Week 7"), and the per-constraint report.

Every model call is its own task in a superstep, and a finished task's writes are saved at once
(pending writes, durability "sync"), so a run killed in the parallel phase resumes without asking
again for any unit whose call finished. Every loop is bounded by a counter in the state, and the
recursion limit is computed from those bounds. Thread ids come from the caller (the run id), never
from Python's per-process `hash()`; unit structures come from the requirements, not from a fixed
list of task types.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from longform.agents import (
    monitor,
    plan_reviewer,
    planner,
    reviewer,
    section_writer,
    unit_planner,
    unit_writer,
)
from longform.agents import requirements as req_agent
from longform.agents.section_writer import SectionSettings
from longform.pipelines.graph_support import (
    ManuscriptResult,
    NullProgress,
    Progress,
    call_event,
    empty_usage,
    fingerprint,
    run_graph,
)

from longform.constraints.spec import Requirements, from_dict
from longform.llm import ChatModel, Completion
from longform.text import count_words, detect_language

METHOD = "cogwriter"
STATE_VERSION = 2  # raise when the graph state's fields change meaning: older checkpoints are then not resumed


@dataclass(frozen=True)
class CogWriterSettings:
    """Bounds and options of a CogWriter run (every loop is bounded by one of these)."""

    requirements: dict[str, Any] | None = field(
        default=None, metadata={"help": "Requirements as JSON (units + constraints); None: extract from the instruction."})
    extract_with_model: bool = field(
        default=True, metadata={"help": "Complete the literal requirements with the model's grounded extraction."})
    concurrency: int | None = field(
        default=None, metadata={"help": "Unit calls of this run in flight at once (None: the LLM layer's limit)."})
    max_rounds: int = field(default=3, metadata={"help": "Reviewer revision rounds at most."})
    max_plan_repairs: int = field(default=1, metadata={"help": "Plan review repair rounds (model) before the program repairs."})
    plan_batch: int = field(default=8, metadata={"help": "Units planned per model call."})
    balance: bool = field(default=True, metadata={
        "help": "After the first pass, give a text that came out short more words in the units that did not stall (once)."})
    section_words: int = field(default=400, metadata={"help": "A text without units: about how many words a section has."})
    max_sections: int = field(default=250, metadata={"help": "A text without units: sections at most."})
    section: SectionSettings = field(default_factory=SectionSettings,
                                     metadata={"help": "Sampling and the monitor's length bounds per unit."})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_settings(options: Any) -> CogWriterSettings:
    """Settings from the registry's generic MethodOptions (requirements, concurrency, section_words, max_rounds)."""
    kw: dict[str, Any] = {}
    if getattr(options, "requirements", None) is not None:
        kw["requirements"] = options.requirements
    if getattr(options, "concurrency", None):
        kw["concurrency"] = int(options.concurrency)
    if getattr(options, "section_words", None):
        kw["section_words"] = int(options.section_words)
    extra = getattr(options, "extra", None) or {}
    for key in ("max_rounds", "max_plan_repairs", "plan_batch", "extract_with_model"):
        if key in extra:
            kw[key] = extra[key]
    return CogWriterSettings(**kw)


def check_input(instruction: str, target_words: int, options: Any = None) -> None:
    """UserError for requirements that cannot be written (given as JSON, or stated in the
    instruction): called before any file is written or any model is loaded."""
    given = getattr(options, "requirements", None)
    if given is not None:
        req_agent.from_given(given, target_words)
    else:
        req_agent.literal_requirements(instruction, target_words)


# --- state ----------------------------------------------------------------------------------------


def merge_units(a: dict[str, dict[str, Any]] | None, b: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Reducer: parallel tasks each write their own unit."""
    return {**(a or {}), **(b or {})}


def sum_usage(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer: usage deltas from parallel tasks add up."""
    out = dict(empty_usage())
    for u in (a or {}, b or {}):
        for k, v in u.items():
            out[k] = round(out.get(k, 0) + v, 3) if isinstance(v, float) else out.get(k, 0) + v
    return out


class CogState(TypedDict, total=False):
    instruction: str
    target_words: int
    lang: str
    seed: int | None
    given: dict[str, Any] | None
    requirements: dict[str, Any]
    requirements_meta: dict[str, Any]
    overview: str
    planned: Annotated[dict[str, dict[str, Any]], merge_units]  # unit number -> the model's title/summary
    items: list[dict[str, Any]]
    plan_fallbacks: Annotated[int, operator.add]
    plan_round: int  # plan repair rounds done
    plan_review: list[dict[str, Any]]
    units: Annotated[dict[str, dict[str, Any]], merge_units]
    round: int  # reviewer revision rounds done
    reviews: int  # review passes (bounded by rounds)
    global_checks: dict[str, dict[str, Any]]
    written_once: bool  # every unit written (after the balance round): the writing phase is over
    balanced: bool  # the one balance round has been decided
    report: list[dict[str, Any]]
    usage: Annotated[dict[str, Any], sum_usage]
    manuscript: str


def usage_of(c: Completion) -> dict[str, Any]:
    return {"calls": 1 + int(c.meta.get("repairs", 0) or 0), "cached_calls": 1 if c.cached else 0,
            "prompt_tokens": c.usage.prompt_tokens, "completion_tokens": c.usage.completion_tokens,
            "latency_s": round(c.latency_s, 3)}


def requirements_of(state: dict[str, Any]) -> Requirements:
    return from_dict(state["requirements"], source="state")


def recursion_limit(settings: CogWriterSettings, target_words: int, n_units: int = 300) -> int:
    """Supersteps the graph may take, from the bounds (a unit's calls, plan and revision rounds)."""
    s = settings.section
    per_unit = 1 + monitor.continuation_limit(target_words, s) + s.max_regenerations
    write_phase = 2 * per_unit
    per_round = 4 + write_phase
    batches = math.ceil(max(1, n_units) / max(1, settings.plan_batch))
    return 20 + batches + 2 * (settings.max_plan_repairs + 1) + 2 * write_phase + (settings.max_rounds + 1) * per_round


# --- the graph ------------------------------------------------------------------------------------


def build_graph(model: ChatModel, settings: CogWriterSettings, progress: Progress | None = None):
    """The uncompiled StateGraph; compile it with a checkpointer."""
    progress = progress or NullProgress()
    ss = settings.section
    limiter = asyncio.Semaphore(settings.concurrency) if settings.concurrency else None

    @contextlib.asynccontextmanager
    async def slot():
        if limiter is None:
            yield
        else:
            async with limiter:
                yield

    def tpw0(lang: str) -> float:
        return section_writer.DEFAULT_TOKENS_PER_WORD.get(lang, 1.4)

    def ctx_of(state: dict[str, Any], req: Requirements) -> dict[str, Any]:
        items = state["items"]
        return {
            "instruction": state["instruction"], "overview": state.get("overview", ""), "n_units": len(items),
            "outline": [unit_writer.outline_line(it) for it in items], "target_words": state["target_words"],
            "global_rules": [c.text for c in req.constraints if c.kind == "global"], "lang": state["lang"],
            "seed": state.get("seed"),
        }

    def resolved(item: dict[str, Any], req: Requirements) -> dict[str, Any]:
        n = item["n"]
        if req.units is None:
            return {**item, "requirements": [], "keywords": []}
        return {**item, "requirements": unit_planner.requirement_texts(req, n),
                "keywords": unit_planner.unit_keywords(req, n)}

    def words_so_far(units: dict[str, dict[str, Any]]) -> int:
        return sum(u.get("words", 0) for u in units.values())

    # -- planning ----------------------------------------------------------------------------------

    async def requirements_node(state: CogState) -> dict[str, Any]:
        target = state["target_words"]
        if state.get("given") is not None:
            req = req_agent.from_given(state["given"], target)
            return {"requirements": req.to_dict(), "requirements_meta": {"source": "given"}, "usage": {}}
        req, meta, c = await req_agent.extract(model, state["instruction"], target, lang=state["lang"],
                                               seed=state.get("seed"), use_model=settings.extract_with_model)
        progress.event("requirements", units=req.count, constraints=len(req.constraints))
        return {"requirements": req.to_dict(), "requirements_meta": meta, "usage": usage_of(c) if c else {}}

    def n_units_for(state: dict[str, Any], req: Requirements) -> int:
        if req.units is not None:
            return req.units.count
        return planner.section_count(state["target_words"], settings.section_words, settings.max_sections)

    async def overview_node(state: CogState) -> dict[str, Any]:
        req = requirements_of(state)
        n = n_units_for(state, req)
        progress.event("plan_start", sections=n)
        text, c = await unit_planner.overview(
            model, state["instruction"], lang=state["lang"], n_units=n, unit_name=req.units.name if req.units else "",
            target_words=state["target_words"], seed=state.get("seed"), tokens_per_word=tpw0(state["lang"]))
        return {"overview": text, "usage": usage_of(c)}

    def planning_requirements(state: dict[str, Any]) -> Requirements:
        """The units to plan: the text's own, or numbered parts for a text without units."""
        req = requirements_of(state)
        if req.units is not None:
            return req
        return unit_planner.section_plan_requirements(req, n_units_for(state, req), state["lang"])

    def plan_route(state: CogState) -> Any:
        """One planning task per batch of units (or parts), all in parallel."""
        planning = planning_requirements(state)
        return [Send("plan_batch", {"k": k, "units": batch, "instruction": state["instruction"],
                                    "overview": state.get("overview", ""), "requirements": planning.to_dict(),
                                    "lang": state["lang"], "seed": state.get("seed")})
                for k, batch in enumerate(unit_planner.batches(planning.units.count, settings.plan_batch))]

    async def plan_batch_node(p: dict[str, Any]) -> dict[str, Any]:
        req = from_dict(p["requirements"], source="state")
        k, seed = p["k"], p["seed"]
        async with slot():
            got, c = await unit_planner.plan_batch(model, p["instruction"], p["overview"], req, p["units"], lang=p["lang"],
                                                   seed=None if seed is None else seed + 17 * (k + 1), tag=f"plan-{k + 1}")
        return {"planned": {str(n): it for n, it in zip(p["units"], got)}, "plan_fallbacks": int(c.fallback),
                "usage": usage_of(c)}

    async def collect_plan_node(state: CogState) -> dict[str, Any]:
        req = requirements_of(state)
        planned = {int(n): v for n, v in state.get("planned", {}).items()}
        if req.units is None:
            planning = planning_requirements(state)
            return {"items": unit_planner.section_items(req, planning, state["target_words"], planned)}
        return {"items": unit_planner.unit_items(req, state["target_words"], planned)}

    async def review_plan_node(state: CogState) -> dict[str, Any]:
        req = requirements_of(state)
        items = state["items"]
        r = plan_reviewer.review(items, req, state["target_words"])
        if r["structural"]:
            raise RuntimeError("cogwriter plan bookkeeping failed: " + "; ".join(r["structural"]))
        history = list(state.get("plan_review", [])) + [{"round": state.get("plan_round", 0), "issues": r["issues"]}]
        out: dict[str, Any] = {"plan_review": history}
        if r["repair"] and state.get("plan_round", 0) < settings.max_plan_repairs:
            return out
        if r["repair"]:
            items = [plan_reviewer.program_repair(it, req) if it["n"] in r["repair"] else it for it in items]
            out["items"] = items
        progress.event("plan_done", sections=len(items), fallback=state.get("plan_fallbacks", 0) > 0,
                       plan=[{"title": it["label"], "words": it["budget"]} for it in items])
        progress.event("phase", name="write", at="start")
        out["units"] = {str(it["n"]): monitor.new_unit(it["n"], it["budget"], tpw0(state["lang"])) for it in items}
        out.update(round=0, reviews=0, written_once=False, balanced=False)
        return out

    def review_plan_route(state: CogState) -> Any:
        if "units" not in state or not state["units"]:
            return "repair_plan"
        return dispatch(state)

    async def repair_plan_node(state: CogState) -> dict[str, Any]:
        req = planning_requirements(state)
        unit_mode = requirements_of(state).units is not None
        last = state["plan_review"][-1]["issues"]
        todo = sorted({i["unit"] for i in last})[: settings.plan_batch]
        rnd = state.get("plan_round", 0) + 1
        seed = state.get("seed")
        got, c = await unit_planner.plan_batch(model, state["instruction"], state.get("overview", ""), req, todo,
                                               lang=state["lang"], seed=None if seed is None else seed + 7919 * rnd,
                                               tag=f"plan-repair-{rnd}")
        by_n = {n: it for n, it in zip(todo, got) if it.get("from_model")}
        # A part's heading was fixed when the plan was collected; a repair changes only what it says.
        items = [{**it, **({"title": by_n[it["n"]]["title"]} if unit_mode else {}), "summary": by_n[it["n"]]["summary"],
                  "repaired_by": "model"} if it["n"] in by_n else it for it in state["items"]]
        return {"items": items, "plan_round": rnd, "usage": usage_of(c)}

    # -- writing: fan-out, one call per task -----------------------------------------------------------

    def payload(state: dict[str, Any], unit: dict[str, Any], req: Requirements) -> dict[str, Any]:
        items = state["items"]
        i = unit["n"] - 1
        return {"unit": unit, "item": resolved(items[i], req), "prev": items[i - 1] if i > 0 else None,
                "next": items[i + 1] if i + 1 < len(items) else None, "ctx": ctx_of(state, req),
                "round": state.get("round", 0), "words_so_far": words_so_far(state["units"])}

    def dispatch(state: dict[str, Any]) -> Any:
        """Send one task per unit that needs a call; otherwise the next phase."""
        req = requirements_of(state)
        units = [state["units"][k] for k in sorted(state["units"], key=int)]
        sends = [Send("write_unit", payload(state, u, req)) for u in units if u["status"] == "write"]
        if sends:
            return sends
        return "review"

    async def write_unit_node(p: dict[str, Any]) -> dict[str, Any]:
        unit, item, ctx = p["unit"], p["item"], p["ctx"]
        n, lang = unit["n"], ctx["lang"]
        draft = unit.get("draft", "")
        needed = monitor.words_needed(unit)
        if unit["calls"] == 0:
            progress.event("section_start", index=n - 1, n_sections=ctx["n_units"], title=item["label"], budget=unit["budget"])
        messages = unit_writer.write_messages(ctx, item, p["prev"], p["next"], budget=unit["budget"], draft=draft,
                                              words_needed=needed, lang=lang, settings=ss)
        regen = unit["regenerations"]
        last = unit["events"][-1] if unit["events"] else ""
        kind = "regen" if last == "regenerate" else ("cont" if draft else "draft")
        tag = f"unit-{n}" if unit["calls"] == 0 else f"unit-{n}:{kind}{unit['calls']}"
        if unit.get("revisions"):
            tag = f"unit-{n}:r{unit['revisions']}:{kind}{unit['calls']}"  # after a revision, not a first draft
        async with slot():
            c = await unit_writer.call(model, messages, words_needed=needed, tokens_per_word=unit["tpw"],
                                       seed=section_writer.call_seed(ctx["seed"], n, unit["calls"], regen),
                                       tag=tag, settings=ss)
        chunk = unit_writer.strip_echo(section_writer.clean_chunk(c.text, item.get("title") or item["label"]), messages,
                                       allowed=unit_writer.plan_texts(ctx, item, p["prev"], p["next"]),
                                       forbidden=[ctx["instruction"], *item.get("requirements", [])])
        new = {**unit, "calls": unit["calls"] + 1, "chunk": chunk,
               "tpw": section_writer.update_tokens_per_word(unit["tpw"], c)}
        call_event(progress, c, index=n - 1, n_sections=ctx["n_units"], section_words=count_words(draft) + count_words(chunk),
                   words_so_far=p["words_so_far"] + count_words(chunk), target_words=ctx["target_words"], decision=kind)
        return {"units": {str(n): new}, "usage": usage_of(c)}

    async def revise_unit_node(p: dict[str, Any]) -> dict[str, Any]:
        unit, item, ctx = p["unit"], p["item"], p["ctx"]
        n, lang = unit["n"], ctx["lang"]
        req = from_dict(p["requirements"], source="state")
        failing = [c for c in req.constraints if c.id in unit["revise_for"]]
        texts = [c.text for c in failing]
        keywords = list(dict.fromkeys(k for c in failing for k in unit["checks"].get(c.id, {}).get("missing") or c.keywords))
        messages = unit_writer.revise_messages(ctx, item, p["prev"], p["next"], budget=unit["budget"], text=unit["text"],
                                               requirements=texts, keywords=keywords, lang=lang)
        words = unit_writer.revise_words(unit["budget"])
        async with slot():
            c = await unit_writer.revise_call(model, messages, words=words, tokens_per_word=unit["tpw"],
                                              seed=section_writer.call_seed(ctx["seed"], n, 100 + p["round"], 0),
                                              tag=f"revise-{n}:r{p['round']}", settings=ss)
        paragraph = unit_writer.strip_echo(section_writer.clean_chunk(c.text, item["label"]), messages,
                                           allowed=unit_writer.plan_texts(ctx, item, p["prev"], p["next"]),
                                           forbidden=[ctx["instruction"], *texts], data=[unit["text"]])
        text = unit_writer.apply_revision(unit["text"], paragraph, unit["budget"])
        revised_for = dict(unit.get("revised_for", {}))
        for x in failing:
            revised_for[x.id] = revised_for.get(x.id, 0) + 1
        new = {**unit, "status": "revised", "draft": text, "text": text, "words": count_words(text),
               "revisions": unit.get("revisions", 0) + 1, "revised_for": revised_for, "continuations": 0,
               "regenerations": 0, "events": list(unit["events"]) + ["revise"], "calls": unit["calls"] + 1}
        call_event(progress, c, index=n - 1, n_sections=ctx["n_units"], section_words=count_words(text),
                   words_so_far=p["words_so_far"], target_words=ctx["target_words"], decision="revise")
        return {"units": {str(n): new}, "usage": usage_of(c)}

    async def monitor_node(state: CogState) -> dict[str, Any]:
        changed: dict[str, dict[str, Any]] = {}
        n_units = len(state["items"])
        for k, u in state["units"].items():
            if u["status"] == "write" and "chunk" in u:
                new = monitor.after_chunk({x: v for x, v in u.items() if x != "chunk"}, u["chunk"], ss)
            elif u["status"] == "revised":
                new = {**u, "status": "write"} if u["words"] < u["budget"] * (1 - ss.short_tolerance) \
                    else monitor.settle(u, ss)
            else:
                continue
            changed[k] = new
            if new["status"] == "written":
                label = state["items"][new["n"] - 1]["label"]
                progress.event("section_done", index=new["n"] - 1, n_sections=n_units, title=label, words=new["words"],
                               budget=new["budget"], words_so_far=words_so_far({**state["units"], **changed}),
                               target_words=state["target_words"])
        out: dict[str, Any] = {"units": changed}
        merged = {**state["units"], **changed}
        if not state.get("written_once") and not any(u["status"] == "write" for u in merged.values()):
            if not state.get("balanced") and settings.balance:
                out["balanced"] = True
                extra = monitor.balance(merged, state["items"], state["target_words"], ss)
                if extra:
                    out["units"] = {**changed, **extra}
                    progress.event("balance", units=len(extra))
                    return out
            progress.event("phase", name="write", at="done")
            out["written_once"] = True
        return out

    def monitor_route(state: CogState) -> Any:
        return dispatch(state)

    # -- review: rules, model checks, revisions -----------------------------------------------------

    async def review_node(state: CogState) -> dict[str, Any]:
        req = requirements_of(state)
        units = state["units"]
        changed: dict[str, dict[str, Any]] = {}
        for k, u in units.items():
            if u["status"] == "written":
                checks = reviewer.rule_checks(req, u["n"], u["text"]) if req.units is not None else {}
                needs_model = bool(reviewer.model_checked(req, u["n"]))
                changed[k] = {**u, "checks": checks, "status": "check" if needs_model else "checked"}
        merged = {**units, **changed}
        out: dict[str, Any] = {"units": changed, "reviews": state.get("reviews", 0) + 1}
        if any(u["status"] == "check" for u in merged.values()):
            return out
        texts = {u["n"]: u["text"] for u in merged.values()}
        gchecks = reviewer.global_checks(req, texts)
        out["global_checks"] = gchecks
        fail_global = [cid for cid, r in gchecks.items() if r["ok"] is False]
        to_revise: dict[str, list[str]] = {}
        for k, u in merged.items():
            if u["status"] != "checked":
                continue
            f = reviewer.failing(u.get("checks", {}))
            if u["n"] == 1:
                f += fail_global
            if f:
                to_revise[k] = f
        rnd = state.get("round", 0)
        if to_revise and rnd < settings.max_rounds:
            out["round"] = rnd + 1
            for k, u in merged.items():
                if k in to_revise:
                    changed[k] = {**u, "status": "revise", "revise_for": to_revise[k]}
                elif u["status"] == "checked":
                    changed[k] = {**u, "status": "done"}
            progress.event("review", round=rnd + 1, units=len(to_revise))
        else:
            for k, u in merged.items():
                changed[k] = {**u, "status": "done"}
        out["units"] = changed
        return out

    def review_route(state: CogState) -> Any:
        req = requirements_of(state)
        units = [state["units"][k] for k in sorted(state["units"], key=int)]
        checks = [Send("check_unit", {**payload(state, u, req), "requirements": state["requirements"]})
                  for u in units if u["status"] == "check"]
        if checks:
            return checks
        revisions = [Send("revise_unit", {**payload(state, u, req), "requirements": state["requirements"]})
                     for u in units if u["status"] == "revise"]
        if revisions:
            return revisions
        return "assemble"

    async def check_unit_node(p: dict[str, Any]) -> dict[str, Any]:
        unit, item, ctx = p["unit"], p["item"], p["ctx"]
        n = unit["n"]
        req = from_dict(p["requirements"], source="state")
        async with slot():
            verdicts, c = await reviewer.model_check(
                model, req, n, item["label"], unit["text"], lang=ctx["lang"],
                seed=section_writer.call_seed(ctx["seed"], n, 200 + p["round"], 0), tag=f"check-{n}:r{p['round']}")
        new = {**unit, "checks": {**unit.get("checks", {}), **verdicts}, "status": "checked"}
        return {"units": {str(n): new}, "usage": usage_of(c)}

    # -- assembly -------------------------------------------------------------------------------------

    async def assemble_node(state: CogState) -> dict[str, Any]:
        req = requirements_of(state)
        units = {int(k): v for k, v in state["units"].items()}
        text = assemble(state["items"], units, unit_mode=req.units is not None)
        rep = reviewer.report(req, units, state.get("global_checks", {}), state.get("round", 0))
        return {"manuscript": text, "report": rep}

    g = StateGraph(CogState)
    g.add_node("requirements", requirements_node)
    g.add_node("overview", overview_node)
    g.add_node("plan_batch", plan_batch_node)
    g.add_node("collect_plan", collect_plan_node)
    g.add_node("review_plan", review_plan_node)
    g.add_node("repair_plan", repair_plan_node)
    g.add_node("write_unit", write_unit_node)
    g.add_node("revise_unit", revise_unit_node)
    g.add_node("monitor", monitor_node)
    g.add_node("review", review_node)
    g.add_node("check_unit", check_unit_node)
    g.add_node("assemble", assemble_node)
    g.add_edge(START, "requirements")
    g.add_edge("requirements", "overview")
    g.add_conditional_edges("overview", plan_route, ["plan_batch"])
    g.add_edge("plan_batch", "collect_plan")
    g.add_edge("collect_plan", "review_plan")
    g.add_conditional_edges("review_plan", review_plan_route, ["repair_plan", "write_unit", "review"])
    g.add_edge("repair_plan", "review_plan")
    g.add_edge("write_unit", "monitor")
    g.add_edge("revise_unit", "monitor")
    g.add_conditional_edges("monitor", monitor_route, ["write_unit", "review"])
    g.add_conditional_edges("review", review_route, ["check_unit", "revise_unit", "assemble"])
    g.add_edge("check_unit", "review")
    g.add_edge("assemble", END)
    return g


def assemble(items: list[dict[str, Any]], units: dict[int, dict[str, Any]], unit_mode: bool = True) -> str:
    """The manuscript: each unit under its `## heading` (a unit text always has its headings; a
    single free section has none, and a split section's later parts go on under the first's)."""
    if not unit_mode and len(items) == 1:
        return units[1]["text"].strip()
    blocks = []
    for it in items:
        text = units[it["n"]]["text"].strip()
        blocks.append(f"## {it['heading']}\n\n{text}".strip() if it["heading"] else text)
    return "\n\n".join(b for b in blocks if b).strip()


def initial_state(instruction: str, target_words: int, seed: int | None, lang: str | None,
                  given: dict[str, Any] | None) -> CogState:
    return {"instruction": instruction, "target_words": int(target_words), "lang": lang or detect_language(instruction),
            "seed": seed, "given": given, "usage": empty_usage()}


def result_from_state(state: dict[str, Any], resumed: bool) -> ManuscriptResult:
    req = requirements_of(state)
    units = {int(k): v for k, v in (state.get("units") or {}).items()}
    items = state.get("items", [])
    sections = [{"index": it["n"] - 1, "title": it["label"], "budget": units[it["n"]]["budget"],
                 "planned_budget": units[it["n"]].get("planned_budget", units[it["n"]]["budget"]),
                 "words": units[it["n"]]["words"], "calls": units[it["n"]]["calls"],
                 "continuations": units[it["n"]]["continuations"], "regenerations": units[it["n"]]["regenerations"],
                 "revisions": units[it["n"]].get("revisions", 0), "truncated": units[it["n"]]["truncated"],
                 "events": units[it["n"]]["events"]} for it in items if it["n"] in units]
    report = state.get("report", [])
    literal = [r for r in report if r["checked_by"] == "rule"]
    summary = {
        "requirements": req.to_dict(), "requirements_meta": state.get("requirements_meta", {}),
        "constraints": report,
        "constraints_satisfied": sum(1 for r in report if r["satisfied"] is True),
        "constraints_total": len(report),
        "literal_satisfied": sum(1 for r in literal if r["satisfied"] is True), "literal_total": len(literal),
        "units_within_10pct": sum(1 for u in units.values() if monitor.within(u)), "units": len(units),
        "revision_rounds": state.get("round", 0),
    }
    meta = {"fallback": state.get("plan_fallbacks", 0) > 0, "overview": state.get("overview", ""),
            "requirements": req.to_dict(), "requirements_meta": state.get("requirements_meta", {}),
            "plan_review": state.get("plan_review", []), "unit_mode": req.units is not None}
    text = state.get("manuscript", "")
    return ManuscriptResult(
        method=METHOD, instruction=state["instruction"], target_words=state["target_words"], lang=state["lang"],
        text=text, words=count_words(text), plan=items, plan_meta=meta, sections=sections,
        usage=state.get("usage", {}), resumed=resumed, report=summary,
    )


async def run(
    model: ChatModel,
    instruction: str,
    target_words: int,
    *,
    seed: int | None = 0,
    checkpoint_path: str | Path | None = None,
    thread_id: str = "cogwriter",
    resume: bool = False,
    settings: CogWriterSettings | None = None,
    progress: Progress | None = None,
    lang: str | None = None,
) -> ManuscriptResult:
    """Write a constrained, unit-structured text (or free sections) of about `target_words` words."""
    settings = settings or CogWriterSettings()
    check_input(instruction, target_words, settings)
    graph = build_graph(model, settings, progress)
    final, resumed = await run_graph(
        lambda saver: graph.compile(checkpointer=saver),
        initial_state(instruction, target_words, seed, lang, settings.requirements),
        checkpoint_path=checkpoint_path, thread_id=thread_id,
        recursion_limit=recursion_limit(settings, target_words), resume=resume,
        version=fingerprint(STATE_VERSION, settings),
    )
    return result_from_state(final, resumed)
