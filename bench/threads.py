"""Embedded model decode speed on an idle and on a busy machine: the default thread choice against
fixed thread counts. Not a test: it prints figures.

    .venv/bin/python bench/threads.py                     # default, --threads 1, --threads 2; idle and busy
    .venv/bin/python bench/threads.py --configs default,1,2,2:passive --tokens 384 --repeats 3

Each configuration runs in a fresh process (as a user starts the writer) that loads the model and
times `--rounds` completions of `--tokens` tokens through longform's layer; its figure is the median
completion tokens/s. "busy" starts one competing CPU-bound process (a Python busy loop) for the
duration of the measurement. Configurations are measured in turn, `--repeats` times, and each one's
median is reported with the 1-minute load average seen while it ran: other work on the machine makes
"idle" less idle, so read the load beside each figure.

A configuration is `default` (no --threads: what the program chooses), a thread count `N`, or
`N:spin` (N threads, OpenMP workers left spinning as libgomp does by default: the behaviour before
longform set its wait policy), `N:spinK` (GOMP_SPINCOUNT=K), or `N:passiveK` (OMP_WAIT_POLICY=PASSIVE,
GOMP_SPINCOUNT=K: spin K rounds, then sleep; `N:passive`: sleep at once), for comparison.
The default passes when it is within 20% of the best configuration in both conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROMPT = [{"role": "user", "content": "Write a long, detailed essay about the history of tea in China and Britain."}]


def child(threads: int | None, tokens: int, rounds: int) -> None:
    import asyncio

    from longform.llm import ChatModel, GenParams
    from longform.llm.embedded import EmbeddedBackend

    backend = EmbeddedBackend(n_threads=threads)
    model = ChatModel(backend)
    rates, loads = [], []
    # One short warm-up call: first-call allocation costs are not what is measured.
    asyncio.run(model.complete(PROMPT, GenParams(max_tokens=16, seed=99, temperature=0.7)))
    for r in range(rounds):
        backend._llama.reset()
        t0 = time.perf_counter()
        c = asyncio.run(model.complete(PROMPT, GenParams(max_tokens=tokens, seed=r, temperature=0.7)))
        rates.append(c.usage.completion_tokens / (time.perf_counter() - t0))
        loads.append(os.getloadavg()[0])
    print(json.dumps({"rates": rates, "load": statistics.mean(loads), "threads": backend.describe().get("threads")}))


def measure(config: str, tokens: int, rounds: int) -> dict:
    env = dict(os.environ)
    args = [sys.executable, __file__, "--child", "--tokens", str(tokens), "--rounds", str(rounds)]
    threads, _, flag = config.partition(":")
    if threads != "default":
        args += ["--threads", threads]
    if flag.startswith("passive"):
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        env["GOMP_SPINCOUNT"] = flag[7:] or "0"
    elif flag.startswith("spin"):  # libgomp's own default (workers spin): the behaviour before the fix
        env["OMP_WAIT_POLICY"] = ""
        if flag[4:]:
            env["GOMP_SPINCOUNT"] = flag[4:]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{config}: child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_competitor() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="default,1,2")
    ap.add_argument("--conditions", default="idle,busy")
    ap.add_argument("--tokens", type=int, default=256, help="completion tokens per timed call")
    ap.add_argument("--rounds", type=int, default=3, help="timed calls per process")
    ap.add_argument("--repeats", type=int, default=2, help="processes per configuration and condition")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.threads, args.tokens, args.rounds)
        return
    configs = args.configs.split(",")
    print(f"{os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable by this process; "
          f"load now {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, dict[str, dict]] = {}
    for condition in args.conditions.split(","):
        per: dict[str, list[dict]] = {c: [] for c in configs}
        comp = start_competitor() if condition == "busy" else None
        try:
            if comp:
                time.sleep(1.0)
            for _ in range(args.repeats):
                for c in configs:
                    m = measure(c, args.tokens, args.rounds)
                    per[c].append(m)
                    print(f"  {condition:<5} {c:<14} {statistics.median(m['rates']):7.1f} tokens/s  (load {m['load']:.2f})",
                          flush=True)
        finally:
            if comp:
                comp.kill()
                comp.wait()
        results[condition] = {}
        for c in configs:
            rates = [x for m in per[c] for x in m["rates"]]
            results[condition][c] = {"tps": statistics.median(rates), "load": statistics.mean(m["load"] for m in per[c]),
                                     "rates": rates, "threads": per[c][-1].get("threads")}
            r = results[condition][c]
            print(f"{condition:<5} {c:<14} {r['tps']:7.1f} tokens/s  (load {r['load']:.2f}; calls: "
                  f"{', '.join(f'{x:.0f}' for x in rates)}; threads {r['threads']})", flush=True)
    print()
    ok = True
    for condition, res in results.items():
        best_c = max(res, key=lambda c: res[c]["tps"])
        if "default" not in res:
            continue
        ratio = res["default"]["tps"] / res[best_c]["tps"]
        ok &= ratio >= 0.8
        print(f"{condition}: default {res['default']['tps']:.1f} tokens/s, best {best_c} {res[best_c]['tps']:.1f}: "
              f"ratio {ratio:.2f} (target >= 0.80)")
    if "default" in configs:
        print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
