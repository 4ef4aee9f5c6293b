"""`writer`: write one manuscript with a method (direct, agentwrite) and any model.

    writer "Write a 10000-word history of tea" --words 10000 --out out/tea
    writer --prompt-file prompt.txt --words 5000 --method agentwrite --model openai:gpt-4o-mini --out out/x
    echo "..." | writer - --words 2000 --out out/y
    writer --out out/tea --resume          # continue a killed or interrupted run

The output folder gets manuscript.md (YAML front matter), plan.json, run.json, calls.jsonl and
checkpoint.sqlite. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shlex
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from longform import __version__
from longform import run_record as rr
from longform.cli_support import ArgumentParser, guarded
from longform.constraints import spec as constraint_spec
from longform.errors import UserError
from longform.lengths import parse_length
from longform.llm import load_model
from longform.llm.redact import REDACTED
from longform.llm_args import add_model_args, llm_config_from_args
from longform.pipelines import registry
from longform.progress import RunProgress
from longform.scores import length_score
from longform.text import detect_language

MAX_WORDS = 100_000


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="writer",
        description="Write a long manuscript (10,000+ words) with any model. Bad input exits 2.",
    )
    p.add_argument("prompt", nargs="?", help="the writing instruction; '-' reads it from stdin")
    p.add_argument("--prompt-file", metavar="F", help="read the instruction from file F")
    p.add_argument("--words", type=int, default=None,
                   help=f"target length in words (CJK characters count one each); 1..{MAX_WORDS:,}. "
                   "Default: the number in the prompt ('a 2000-word ...', '2000字')")
    p.add_argument("--method", choices=registry.names(), default=None,
                   help=f"writing method: {', '.join(registry.names())} (direct: one call, the baseline; "
                   f"agentwrite: plan, then write section by section; cogwriter: requirements, unit plan with review, "
                   f"units in parallel, constraint review; selflengthen: a first response, then extension rounds); "
                   f"default {registry.DEFAULT_METHOD}")
    add_model_args(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must be empty, or use --resume/--force)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in DIR where it stopped")
    g.add_argument("--force", action="store_true", help="delete the run files already in DIR and start over")
    p.add_argument("--seed", type=int, default=None, help="base seed for every call (default 0)")
    p.add_argument("--section-words", type=int, default=None,
                   help="agentwrite: about how many words one section should have (default 400)")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N",
                   help="selflengthen: extension rounds at most (default 8)")
    p.add_argument("--requirements", metavar="FILE", default=None,
                   help="cogwriter: the units and constraints as JSON ({\"units\": {\"name\": \"Week\", \"count\": 20}, "
                   "\"constraints\": [...]}, see longform/constraints/spec.py); default: read from the instruction")
    return p


def words_from_prompt(prompt: str) -> int | None:
    """What to aim at when the prompt states a length and no --words is given: the middle of the
    stated interval (longform.lengths.parse_length; "at least 2000 words" -> 2500, not 2000)."""
    spec = parse_length(prompt)
    return spec.target_words if spec else None


def stated_length(instruction: str) -> dict[str, Any] | None:
    """The instruction's stated length (kind, L, interval, aim) as the run record keeps it, or None."""
    spec = parse_length(instruction)
    return spec.to_dict() if spec else None


def read_prompt(args: Any) -> str | None:
    if args.prompt is not None and args.prompt_file is not None:
        raise UserError("give the prompt either as an argument or with --prompt-file, not both")
    if args.prompt_file is not None:
        try:
            text = Path(args.prompt_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read --prompt-file {args.prompt_file}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        return check_prompt_text(text, f"--prompt-file {args.prompt_file}")
    if args.prompt == "-":
        return check_prompt_text(sys.stdin.read(), "the prompt on stdin")
    return None if args.prompt is None else check_prompt_text(args.prompt, "the prompt")


def check_prompt_text(text: str, what: str) -> str:
    """Refuse binary input: NUL or other control bytes are never part of a writing instruction."""
    bad = sum(1 for ch in text if ch == "\x00" or (ord(ch) < 32 and ch not in "\t\n\r\f\v"))
    if bad:
        raise UserError(f"{what} holds {bad:,} NUL/control byte(s): it is not a text instruction; "
                        "give a plain-text prompt (UTF-8)")
    return text


PROMPT_SHARE_OF_WINDOW = 0.5  # the instruction may take at most half the window: plan, memory and output need the rest


def check_prompt_fits(model: Any, instruction: str) -> None:
    """Refuse a prompt the model's window cannot hold, before any run file is written (the context
    budget would otherwise cut it in every call, without a word)."""
    limit = int(model.n_ctx * PROMPT_SHARE_OF_WINDOW)
    if len(instruction) > 16 * limit:  # no tokenizer packs 16 characters into a token: too long for sure
        size = f"{len(instruction):,} characters (about {len(instruction) // 4:,} tokens)"
    else:
        tokens = model.count_text(instruction)
        if tokens <= limit:
            return
        size = f"{tokens:,} tokens ({len(instruction):,} characters)"
    raise UserError(f"the prompt is {size}; the model's window is {model.n_ctx:,} tokens and a prompt may take at "
                    f"most {limit:,} of them: shorten the prompt, or use a model with a larger window (--n-ctx)")


def check_words(words: int | None) -> int:
    if words is None:
        raise UserError("no target length: pass --words N, or state it in the prompt "
                        "('about 2000 words', 'at least 3000 words', '两千字左右')")
    if words <= 0:
        raise UserError(f"--words must be a positive number of words, got {words}")
    if words > MAX_WORDS:
        raise UserError(f"--words {words:,} is more than this tool writes ({MAX_WORDS:,} at most)")
    return words


def prepare_out_dir(out: Path, *, resume: bool, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --out {out}: {exc.strerror}") from None
    probe = out / f".writer-probe-{os.getpid()}"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {out} is not writable: {exc.strerror}") from None
    if resume:
        return
    if any(out.iterdir()):
        if not force:
            raise UserError(f"--out {out} is not empty; add --resume to continue its run or --force to start over")
        rr.wipe_run(out)


def resume_command(out: Path) -> str:
    return f"writer --out {shlex.quote(str(out))} --resume"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_record(args: Any, instruction: str, words: int, method: str, seed: int, section_words: int) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4().hex,
        "status": "running",
        "longform_version": __version__,
        "method": method,
        "instruction": instruction,
        "language": detect_language(instruction),
        "target_words": words,
        "length": stated_length(instruction),
        "seed": seed,
        "model": {"spec": args.model, "base_url": args.base_url, "n_ctx": args.n_ctx},
        "settings": {"section_words": section_words},
        "command": {"cache": args.cache, "no_cache": args.no_cache},
        "started_at": _now(),
        "sessions": [],
    }


def method_options(record: dict[str, Any]) -> registry.MethodOptions:
    """The registry's generic options, from what the run record keeps (so a resume uses the same)."""
    st = record.get("settings", {})
    return registry.MethodOptions(
        section_words=st.get("section_words"), requirements=st.get("requirements"),
        concurrency=st.get("concurrency"), max_rounds=st.get("max_rounds"),
    )


async def _write(args: Any, out: Path, record: dict[str, Any], resume: bool, state: dict[str, Any]) -> dict[str, Any]:
    try:
        return await _write_run(args, out, record, resume, state)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels this task
        _interrupted(out, state)
        if state.get("hard_exit"):
            # Everything is on disk (checkpoint after every step, atomic run.json, flushed call log).
            # Exit now instead of waiting for the model call in flight in its worker thread.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise


def _interrupted(out: Path, state: dict[str, Any]) -> None:
    if state.get("announced"):
        return
    state["announced"] = True
    _mark(out, state, "interrupted")
    print(f"interrupted; the finished steps are saved. Resume with: {resume_command(out)}", file=sys.stderr)


async def _write_run(args: Any, out: Path, record: dict[str, Any], resume: bool, state: dict[str, Any]) -> dict[str, Any]:
    cfg = llm_config_from_args(args, call_log_path=str(out / rr.CALLS))
    model = load_model(cfg)
    try:
        check_prompt_fits(model, record["instruction"])
    except UserError:
        await model.aclose()
        raise
    record["model"]["describe"] = model.describe()
    session = {"started_at": _now(), "resume": resume, "status": "running"}
    record.setdefault("sessions", []).append(session)
    record["status"] = "running"
    rr.write_run(out, record)
    state["record"], state["session"] = record, session
    if resume:
        print(f"resuming run {record['run_id'][:8]} in {out} ({record['method']}, {record['target_words']:,} words)",
              file=sys.stderr)
    t0 = time.monotonic()
    method = record["method"]
    with RunProgress(record["target_words"]).watch(model.activity, show_wait=model.backend.streams) as progress:
        try:
            settings = registry.settings_for(method, method_options(record))
            if settings is not None and hasattr(settings, "to_dict"):
                record["settings"][method] = settings.to_dict()
            result = await registry.get(method).run(
                model, record["instruction"], record["target_words"], seed=record["seed"],
                checkpoint_path=out / rr.CHECKPOINT, thread_id=record["run_id"], resume=resume,
                settings=settings, progress=progress,
            )
        finally:
            session["elapsed_s"] = round(time.monotonic() - t0, 3)
            session["backend_calls"] = model.calls
            session["cache_hits"] = model.cache_hits
            session["backend_usage"] = dataclasses.asdict(model.usage)
            await model.aclose()
    s_l = round(length_score(record["target_words"], result.words), 2)
    meta = rr.manuscript_meta(
        method=method, model=record["model"]["describe"].get("model", args.model), instruction=record["instruction"],
        target_words=record["target_words"], words=result.words, lang=result.lang, seed=record["seed"],
        length=record.get("length"),
    )
    if result.plan:
        rr.write_plan(out, result.plan, result.plan_meta, record["target_words"])
    rr.write_manuscript(out, result.text, meta)
    session["status"] = "done"
    session["ended_at"] = _now()
    record.update(
        status="done",
        finished_at=_now(),
        words=result.words,
        length_score=s_l,
        longen_score=meta.get("longen_score"),
        usage=result.usage,
        prompt_tokens_per_word=round(result.usage.get("prompt_tokens", 0) / max(1, result.words), 4),
        plan_fallback=bool(result.plan_meta.get("fallback", False)) if result.plan else None,
        sections=result.sections,
        elapsed_s=round(sum(s.get("elapsed_s", 0.0) for s in record["sessions"]), 3),
    )
    if result.report:
        record["report"] = result.report
    rr.write_run(out, record)
    return record


@guarded
def main(argv: list[str] | None = None) -> int:
    console_entry = argv is None  # run as the `writer` command (not called from Python)
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    created_out = not out.exists()
    if args.section_words is not None and not 50 <= args.section_words <= 5000:
        raise UserError(f"--section-words must be between 50 and 5000, got {args.section_words}")
    if args.max_rounds is not None and not 0 <= args.max_rounds <= 100:
        raise UserError(f"--max-rounds must be between 0 and 100, got {args.max_rounds}")
    prompt = read_prompt(args)
    if args.resume:
        record = rr.read_run(out) if out.is_dir() else None
        if record is None:
            raise UserError(f"no run to resume in {out} (no {rr.RUN}); start one without --resume")
        if prompt is not None and prompt.strip() and prompt.strip() != record["instruction"]:
            raise UserError(f"the prompt differs from the run in {out}; resume without a prompt, or use --force")
        if args.requirements is not None:
            raise UserError(f"the run in {out} keeps its own requirements; resume without --requirements")
        for flag, key in (("words", "target_words"), ("method", "method"), ("seed", "seed")):
            given = getattr(args, flag)
            if given is not None and given != record[key]:
                raise UserError(f"--{flag} {given} differs from the run in {out} ({record[key]}); resume without it")
        if record.get("status") == "done":
            print(f"nothing to resume: {out} holds a finished run ({record.get('words')} words); "
                  "use --force to write it again", file=sys.stderr)
            return 0
        prepare_out_dir(out, resume=True, force=False)
        # The model flags are not stored as secrets; reuse the run's model unless given again.
        if args.model == "embedded" and record["model"].get("spec") not in (None, "embedded"):
            args.model = record["model"]["spec"]
        stored_url = record["model"].get("base_url")
        if args.base_url is None and stored_url and REDACTED in stored_url:
            raise UserError(f"the run in {out} used a --base-url with credentials, which are never stored; "
                            "pass the same --base-url again to resume")
        args.base_url = args.base_url or stored_url
        args.n_ctx = args.n_ctx or record["model"].get("n_ctx")
        resume = True
    else:
        if prompt is None:
            raise UserError("no prompt: give the instruction as an argument, with --prompt-file F, or '-' for stdin")
        instruction = prompt.strip()
        if not instruction:
            raise UserError("the prompt is empty; give a writing instruction")
        words = check_words(args.words if args.words is not None else words_from_prompt(instruction))
        method = args.method or registry.DEFAULT_METHOD
        requirements = constraint_spec.load(args.requirements) if args.requirements is not None else None
        if requirements is not None and method != "cogwriter":
            raise UserError("--requirements is read by --method cogwriter only; add --method cogwriter")
        registry.check_input(method, instruction, words, registry.MethodOptions(requirements=requirements))
        prepare_out_dir(out, resume=False, force=args.force)
        record = new_run_record(
            args, instruction, words, method, 0 if args.seed is None else args.seed,
            args.section_words or 400,
        )
        record["settings"].update(requirements=requirements, concurrency=args.concurrency, max_rounds=args.max_rounds)
        resume = False
    state: dict[str, Any] = {"hard_exit": console_entry}
    try:
        record = asyncio.run(_write(args, out, record, resume, state))
    except (KeyboardInterrupt, asyncio.CancelledError):
        _interrupted(out, state)
        return 130
    except BaseException:
        _mark(out, state, "failed")
        if not state.get("record") and created_out:
            _remove_if_empty(out)  # refused before the run began: leave no trace
        raise
    print(str(out / rr.MANUSCRIPT))
    print(
        f"wrote {out / rr.MANUSCRIPT}: {record['words']:,} words (target {record['target_words']:,}, "
        f"S_l {record['length_score']:.1f}{_interval_note(record)}) with {record['method']} in {record['elapsed_s']:.0f}s",
        file=sys.stderr,
    )
    return 0


def _interval_note(record: dict[str, Any]) -> str:
    spec = record.get("length")
    if not spec or record.get("longen_score") is None:
        return ""
    return f"; stated {spec['kind'].replace('_', ' ')} [{spec['lo']:,.0f}, {spec['hi']:,.0f}], LonGen {record['longen_score']:.2f}"


def _remove_if_empty(out: Path) -> None:
    try:
        out.rmdir()
    except OSError:
        pass


def _mark(out: Path, state: dict[str, Any], status: str) -> None:
    record, session = state.get("record"), state.get("session")
    if not record:
        return
    try:
        record["status"] = status
        if session is not None:
            session["status"] = status
            session["ended_at"] = _now()
        rr.write_run(out, record)
    except Exception:  # noqa: BLE001, S110 - best effort while already failing or interrupted
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
