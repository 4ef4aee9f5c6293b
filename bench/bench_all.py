"""`make bench`: every benchmark, each printing its ratio against a baseline measured in the same
run, and bench/results.md with all the figures.

    .venv/bin/python bench/bench_all.py            # full: about an hour on a 2-core CPU (speed: 10k words a method)
    .venv/bin/python bench/bench_all.py --quick    # smoke run: small sizes, minutes
    .venv/bin/python bench/bench_all.py --only throughput,overhead

  throughput   dataset-job tokens/s as a share of the simulated server's capacity, concurrency 1/8/32
  pasted       prompt tokens per output word, agentwrite vs pasted-history AgentWrite, 2k-20k words
               (simulated server; `bench/pasted_history.py` without --sim runs it on the embedded model)
  speed        each method's words/s on the embedded model / the model's raw decode rate
  overhead     the LLM layer's tokens/s / raw llama_cpp's (bench/llm_overhead.py)
  loop         llama-cpp-python's per-token loop cost outside decode: TunedLlama / the library's path

A bench that fails is reported in results.md with its error; the others still run, and the script
exits 1 at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORDER = ("throughput", "overhead", "pasted", "speed", "loop")


def run(name: str, argv: list[str], json_path: Path | None) -> tuple[int, str, float]:
    """Run one bench script, echoing its output; (exit code, output, seconds)."""
    cmd = [sys.executable, str(BENCH / argv[0]), *argv[1:]] + (["--json", str(json_path)] if json_path else [])
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return proc.wait(), "".join(lines), time.monotonic() - t0


def md_throughput(res: dict[str, Any]) -> list[str]:
    lines = [(f"Simulated server: {res['slots']} slots x {res['tokens_per_s']:g} tokens/s per request; "
             "job = `longform dataset build` (agentwrite, 400-word records), no request cache."), "",
             ("| concurrency | capacity tok/s | bare client tok/s | dataset job tok/s | records | job / bare client | "
             "job / capacity | first request to last reply: job / bare client | job CPU ms/token | "
             "core share the job needs at capacity |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['concurrency']} | {r['capacity_tokens_per_s']:.0f} | {r['baseline_tokens_per_s']:.1f} | "
                     f"{r['job_tokens_per_s']:.1f} | {r['records']} | **{r['share_of_baseline']:.3f}** | "
                     f"{r['share_of_capacity']:.3f} | {r['steady_share_of_baseline']:.3f} | "
                     f"{r.get('cpu_ms_per_token', float('nan')):.2f} | {r.get('core_share_at_capacity', float('nan')):.0%} |")
    return lines + ["", "Aim: >= 0.9 at concurrency 32."]


def md_pasted(res: dict[str, Any]) -> list[str]:
    lines = [("| target words | agentwrite words | agentwrite prompt tok/word | pasted words | pasted prompt tok/word | "
             "pasted / agentwrite | 8k window overflows after |"), "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        a, p = r["agentwrite"], r["pasted"]
        at = p.get("overflows_8k_at_words")
        lines.append(f"| {r['target']:,} | {a['words']:,} | {a['prompt_tokens_per_word']:.2f} | {p['words']:,} | "
                     f"{p['prompt_tokens_per_word']:.2f} | **{r['ratio']:.2f}** | "
                     f"{'fits' if at is None else f'~{at:,} words'} |")
    return lines


def md_speed(res: dict[str, Any]) -> list[str]:
    lines = [(f"{res['words']:,}-word LongWrite-Ruler prompt, {res['threads']} llama.cpp thread(s), no request cache; "
             "raw decode = words/s from a one-line prompt, measured just before and after each method."), "",
             "| method | words | seconds | words/s | raw decode words/s | ratio | calls | prompt tokens |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['method']} | {r['words']:,} | {r['seconds']:.0f} | {r['words_per_s']:.2f} | "
                     f"{r['raw_words_per_s']:.2f} | **{r['ratio']:.3f}** | {r['calls']} | {r['prompt_tokens']:,} |")
    return lines + ["", "Aim: >= 0.67 for agentwrite at 10,000 words."]


def md_loop(res: dict[str, Any]) -> list[str]:
    lines = [f"{res['threads']} llama.cpp thread(s); milliseconds a token outside llama.cpp's prefill and decode timers.", "",
             "| call | library ms/token | TunedLlama ms/token | ratio | same text |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['call']} | {r['library_ms_per_token']:.2f} | {r['tuned_ms_per_token']:.2f} | "
                     f"**{r['ratio']:.2f}** | {r['same_text']}/{r['rounds']} |")
    return lines + ["", "Prose must be the same text (same sampler chain); a JSON call may differ (the grammar sees a cut list)."]


def md_overhead(output: str) -> list[str]:
    keep = [line.strip() for line in output.splitlines() if re.match(r"^(raw llama_cpp|longform layer|layer/raw)", line)]
    return ["```", *keep, "```"] if keep else ["(no figures parsed)"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run in minutes")
    ap.add_argument("--only", default=",".join(ORDER), help=f"comma-separated subset of {','.join(ORDER)}")
    ap.add_argument("--threads", type=int, default=1, help="embedded model threads for pasted and speed")
    ap.add_argument("--out", default=str(BENCH / "results.md"))
    args = ap.parse_args()
    only = args.only.split(",")
    unknown = [x for x in only if x not in ORDER]
    if unknown:
        print(f"error: unknown bench {','.join(unknown)}: use {','.join(ORDER)}", file=sys.stderr)
        raise SystemExit(2)
    quick = ["--quick"] if args.quick else []
    threads = ["--threads", str(args.threads)]
    plans = {
        "throughput": (["throughput.py", *quick], md_throughput, "1. Dataset-job throughput on the simulated server"),
        "overhead": (["llm_overhead.py", *(["--rounds", "2", "--max-tokens", "128"] if args.quick else [])], None,
                     "4. LLM layer overhead (embedded backend)"),
        "pasted": (["pasted_history.py", "--sim", *quick], md_pasted,
                   "2. Prompt tokens per output word: agentwrite vs pasted-history AgentWrite (simulated server)"),
        "speed": (["words_per_second.py", *quick, *threads], md_speed,
                  "3. Words per second / raw decode rate (embedded model)"),
        "loop": (["llama_loop.py", *(["--rounds", "1"] if args.quick else []), *threads], md_loop,
                 "5. llama-cpp-python's generation loop: TunedLlama against the library's path"),
    }
    load0 = os.getloadavg()
    sections: dict[str, list[str]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ORDER:
            if name not in only:
                continue
            argv, fmt, title = plans[name]
            json_path = Path(tmp) / f"{name}.json" if fmt else None
            rc, output, secs = run(name, argv, json_path)
            body: list[str]
            if rc != 0:
                failed.append(name)
                tail = "\n".join(output.strip().splitlines()[-5:])
                body = [f"FAILED (exit {rc}):", "```", tail, "```"]
            elif fmt is None:
                body = md_overhead(output)
            else:
                body = fmt(json.loads(json_path.read_text(encoding="utf-8")))
            when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            sections[name] = [f"## {title}", "", (f"`python bench/{' '.join(argv)}` ({secs:.0f} s, finished {when}, "
                              f"load average {os.getloadavg()[0]:.1f})"), "", *body, ""]
    load1 = os.getloadavg()
    head = [
        "# Benchmark results (`make bench`" + (" BENCH_ARGS=--quick" if args.quick else "") + ")", "",
        (f"- {datetime.now(timezone.utc).isoformat(timespec='seconds')}, {platform.machine()}, {os.cpu_count()} CPU(s); "
        f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end (other work on the machine slows "
        "the embedded-model figures; ratios are against baselines measured in the same run)"),
        "- " + ("QUICK smoke run: small sizes, not the reported figures" if args.quick else "full run"), "",
    ]
    text = "\n".join(head + [line for name in ORDER if name in sections for line in sections[name]])
    out = Path(args.out)
    if args.only != ",".join(ORDER) and out.exists():
        text = merge(out.read_text(encoding="utf-8"), sections, head)
    out.write_text(text + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    if failed:
        print(f"error: {len(failed)} bench(es) failed: {', '.join(failed)} (their output is in {out})", file=sys.stderr)
        raise SystemExit(1)


def merge(old: str, new: dict[str, list[str]], head: list[str]) -> str:
    """Replace the sections of the benches that ran (--only) and keep the others' last figures."""
    blocks = re.split(r"(?m)^(?=## )", old)
    keep: dict[str, str] = {}
    for b in blocks[1:]:
        num = b[3:4]
        keep[num] = b.rstrip() + "\n"
    numbers = {"throughput": "1", "pasted": "2", "speed": "3", "overhead": "4", "loop": "5"}
    for name, lines in new.items():
        keep[numbers[name]] = "\n".join(lines)
    return "\n".join(head) + "\n" + "\n".join(keep[k] for k in sorted(keep))


if __name__ == "__main__":
    main()
