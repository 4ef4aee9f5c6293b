"""The writer on prompts that state an interval and no --words: does it land inside each interval?

Runs `writer` (embedded default model, default method) on prompts of every kind ("at least N words",
"不少于N字", "between A and B words", "no more than N words", "about N words", "N到M字"), reads the
interval and LonGen score from each manuscript's front matter, and prints a table with the share
inside. Not a test: it prints figures (and writes a Markdown table with --md).

    .venv/bin/python bench/writer_intervals.py --threads 1
    .venv/bin/python bench/writer_intervals.py --threads 1 --out out/bench/intervals --md out/bench/intervals.md
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from longform import run_record as rr

PROMPTS = [
    "Write an essay about the history of tea in China. Write at least 400 words.",
    "请写一篇介绍中国茶文化的文章，不少于400字。",
    "Write a guide to brewing green tea at home, between 300 and 500 words.",
    "Write a short story about a lighthouse keeper. Write no more than 600 words.",
    "Write about 500 words on why people keep gardens.",
    "写一篇关于秋天的散文，字数在300到500字之间。",
    "Write a report on the benefits of walking. It must be at least 1,000 words long.",
    "Describe a busy city market in no more than 300 words.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "intervals"))
    ap.add_argument("--threads", type=int, default=None, help="embedded model CPU threads")
    ap.add_argument("--method", default=None, help="writing method (default: the writer's default)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    ap.add_argument("--md", default=None, help="also write the table to this Markdown file")
    args = ap.parse_args()
    out_root = Path(args.out)
    rows = []
    header = "| prompt | kind | interval | target | words | inside | LonGen | S_l | s |\n|---|---|---|---:|---:|---|---:|---:|---:|"
    print(header, flush=True)
    for i, prompt in enumerate(PROMPTS[: args.limit]):
        out = out_root / f"p{i}"
        done = out / rr.MANUSCRIPT
        t0 = time.monotonic()
        if not done.exists():
            cmd = [sys.executable, "-m", "longform.writer_cli", prompt, "--out", str(out), "--force"]
            cmd += ["--threads", str(args.threads)] if args.threads else []
            cmd += ["--method", args.method] if args.method else []
            r = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if r.returncode != 0:
                print(f"| {prompt[:50]} | failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode} |")
                continue
        front, _ = rr.read_manuscript(done)
        spec = front.get("stated_length") or {}
        inside = bool(spec) and spec["lo"] <= front["words"] <= spec["hi"]
        row = (f"| {prompt[:60]} | {spec.get('kind')} | [{spec.get('lo', 0):.0f}, {spec.get('hi', 0):.0f}] | "
               f"{front['target_words']} | {front['words']} | {'yes' if inside else 'NO'} | "
               f"{front.get('longen_score', 0):.2f} | {front['length_score']:.1f} | {time.monotonic() - t0:.0f} |")
        rows.append((inside, front.get("longen_score") or 0.0, row))
        print(row, flush=True)
    if rows:
        n_in = sum(1 for r in rows if r[0])
        summary = (f"\ninside the stated interval: {n_in}/{len(rows)}; mean LonGen score "
                   f"{sum(r[1] for r in rows) / len(rows):.3f}")
        print(summary)
        if args.md:
            Path(args.md).write_text(header + "\n" + "\n".join(r[2] for r in rows) + "\n" + summary + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
