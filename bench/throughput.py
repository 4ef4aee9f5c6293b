"""Dataset-job throughput as a share of a simulated GPU server's capacity, at concurrency 1, 8, 32.

    .venv/bin/python bench/throughput.py [--concurrency 1,8,32] [--tokens-per-s 30]
    .venv/bin/python bench/throughput.py --quick        # one wave of records per level

The simulated OpenAI-compatible server (bench/sim_server.py, run as its own process so it does not
share our interpreter) streams at a fixed token rate per request with 32 slots. For each
concurrency c, in the same run:
  baseline  a bare streaming HTTP client keeps c requests in flight (the server's achievable rate
            at c: the c x rate capacity minus HTTP and timing slack);
  job       `longform dataset build`'s job (agentwrite, c records and c calls in flight, request cache
            off) writes 3c records (c in --quick); its rate is the completion tokens the server
            served during the job over the job's wall time. A one-record warm-up job runs first
            (one-time imports and setup are not throughput). Also printed: the rate over the span
            from the job's first request to its last reply (start-up and final writes left out), and
            the job's CPU time per token: on a machine whose cores are busy with other work the job
            gets less CPU than it needs and falls behind, which the CPU figure separates from design.
Prints each rate, the job's share of the baseline (aim >= 0.9 at 32) and of the nominal capacity.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, emit, say

SLOTS = 32
SECTION_WORDS = 200
TARGET_WORDS = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """bench/sim_server.py in a subprocess; stats over HTTP."""

    def __init__(self, slots: int, tokens_per_s: float):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "sim_server.py"), "--slots", str(slots), "--tokens-per-s",
             str(tokens_per_s), "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError("the simulated server did not start")

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=10).json()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def baseline(server: ServerProcess, concurrency: int, requests_per_worker: int, words: int) -> float:
    """Completion tokens a second a bare streaming client gets with `concurrency` requests in flight."""
    body = {"model": "sim", "stream": True, "max_tokens": words * 2,
            "messages": [{"role": "user", "content": f"Write about {words} words."}]}
    before = server.stats()["completion_tokens"]

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in range(requests_per_worker):
            async with client.stream("POST", f"{server.base_url}/chat/completions", json=body) as r:
                async for _line in r.aiter_lines():
                    pass

    t0 = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return (server.stats()["completion_tokens"] - before) / (time.monotonic() - t0)


def job_config(tmp: Path, server: ServerProcess, concurrency: int, records: int, tag: str):
    from longform.dataset_config import from_dict

    src = tmp / f"instructions-{tag}.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Write about {TARGET_WORDS} words on topic {tag}-{i}: "
                                                      f"the history of craft number {i}."}) + "\n"
                           for i in range(records)), encoding="utf-8")
    return from_dict({
        "name": f"throughput-{tag}",
        "source": {"path": str(src)},
        "augment": {"per_instruction": 0},
        "generation": {"methods": ["agentwrite"], "samples": 1, "seed": 0, "concurrency": concurrency,
                       "section_words": SECTION_WORDS, "default_target_words": TARGET_WORDS},
        "model": {"model": "openai:sim", "base_url": server.base_url, "concurrency": concurrency, "no_cache": True,
                  "n_ctx": 8192},
        "output": {"dir": str(tmp / "datasets"), "part_rows": 8},
    }, where="<throughput bench>")


async def job(server: ServerProcess, cfg, calls: Path) -> dict[str, float]:
    """Run the dataset job; its rate over its wall time, and over its calls' span (first request
    sent to last reply read: the job's start-up and final writes left out)."""
    from longform.pipelines.dataset_builder import run_job

    from longform.commands.dataset import llm_config
    from longform.llm import load_model

    model = load_model(llm_config(cfg, call_log=str(calls)))
    before = server.stats()["completion_tokens"]
    t0, cpu0 = time.monotonic(), time.process_time()
    try:
        summary = await run_job(cfg, model)
    finally:
        await model.aclose()
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    tokens = server.stats()["completion_tokens"] - before
    log = [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]
    span = max(r["ts"] for r in log) - min(r["ts"] - r["latency_s"] for r in log)
    return {"rate": tokens / wall, "steady_rate": tokens / span, "wall": wall, "span": span,
            "records": summary.written, "calls": len(log), "cpu_ms_per_token": 1000 * cpu / max(1, tokens)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--tokens-per-s", type=float, default=30.0, help="per request (slot) decode rate of the server")
    ap.add_argument("--quick", action="store_true", help="one wave of records per level")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    server = ServerProcess(SLOTS, args.tokens_per_s)
    rows = []
    say(f"simulated server: {SLOTS} slots x {args.tokens_per_s:g} tokens/s; dataset job = agentwrite, "
        f"{TARGET_WORDS}-word records, {SECTION_WORDS}-word sections")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # warm-up: the first job of a process pays one-time imports (pyarrow, datasets) and setup
            asyncio.run(job(server, job_config(Path(tmp), server, 1, 1, "warmup"), Path(tmp) / "calls-warmup.jsonl"))
            for c in levels:
                waves = 1 if args.quick else 3
                capacity = min(c, SLOTS) * args.tokens_per_s
                base = asyncio.run(baseline(server, c, waves * 2, SECTION_WORDS))
                cfg = job_config(Path(tmp), server, c, max(2, waves * c), f"c{c}")
                j = asyncio.run(job(server, cfg, Path(tmp) / f"calls-c{c}.jsonl"))
                rate = j["rate"]
                row = {"concurrency": c, "capacity_tokens_per_s": capacity, "baseline_tokens_per_s": round(base, 1),
                       "job_tokens_per_s": round(rate, 1), "job_wall_s": round(j["wall"], 1), "records": j["records"],
                       "share_of_baseline": round(rate / base, 3), "share_of_capacity": round(rate / capacity, 3),
                       "steady_tokens_per_s": round(j["steady_rate"], 1), "calls_span_s": round(j["span"], 1),
                       "steady_share_of_baseline": round(j["steady_rate"] / base, 3),
                       "cpu_ms_per_token": round(j["cpu_ms_per_token"], 3),
                       "core_share_at_capacity": round(j["cpu_ms_per_token"] * capacity / 1000, 3)}
                rows.append(row)
                say(f"concurrency {c:>2}: capacity {capacity:7.0f} tok/s, bare client {base:7.1f} tok/s, "
                    f"dataset job {rate:7.1f} tok/s ({j['records']} records in {j['wall']:.0f}s): "
                    f"share of baseline {rate / base:.3f}, of capacity {rate / capacity:.3f}"
                    + ("  (aim >= 0.9)" if c == 32 else "")
                    + f"; first request to last reply {j['span']:.0f}s: {j['steady_rate']:.1f} tok/s, "
                    f"{j['steady_rate'] / base:.3f} of baseline; the job's CPU: {j['cpu_ms_per_token']:.2f} ms a token, "
                    f"{j['cpu_ms_per_token'] * capacity / 1000:.0%} of one core at this capacity")
    finally:
        server.close()
    emit(args.json, {"bench": "throughput", "slots": SLOTS, "tokens_per_s": args.tokens_per_s, "rows": rows})


if __name__ == "__main__":
    main()
