"""`make bench`'s scripts, run for real at small sizes: each runs to the end and writes its figures.

The full runs take an hour (`make bench`); here the embedded model and the simulated server do a
few hundred tokens each, so a script that breaks (an API it calls changed, a JSON key renamed)
fails `make test` instead of the next benchmark run. Figures are not asserted: they are timings.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_all import md_speed, md_throughput

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=600, cwd=BENCH.parent)


def test_bench_all_rejects_an_unknown_bench_in_one_line():
    proc = run("bench_all.py", "--only", "overhead,nonsense")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown bench nonsense: use throughput,overhead,pasted,speed,loop"]


@pytest.mark.model
def test_bench_all_quick_writes_each_section_it_ran(tmp_path):
    out = tmp_path / "results.md"
    proc = run("bench_all.py", "--quick", "--only", "overhead,pasted,loop", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    assert "FAILED" not in text
    assert "QUICK smoke run" in text
    for title in ("## 2. Prompt tokens per output word", "## 4. LLM layer overhead", "## 5. llama-cpp-python"):
        assert title in text
    assert "## 1." not in text and "## 3." not in text
    assert "layer/raw ratio:" in text
    # Without a grammar TunedLlama samples with the library's own chain: the same text, by construction.
    (prose,) = [line for line in text.splitlines() if line.startswith("| prose, 600 tokens |")]
    assert prose.endswith("| 1/1 |")


@pytest.mark.server
def test_throughput_script_measures_each_concurrency(tmp_path):
    js = tmp_path / "throughput.json"
    proc = run("throughput.py", "--quick", "--concurrency", "1,4", "--tokens-per-s", "300", "--json", str(js))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    res = json.loads(js.read_text(encoding="utf-8"))
    assert [r["concurrency"] for r in res["rows"]] == [1, 4]
    for r in res["rows"]:
        assert r["records"] >= r["concurrency"]
        assert r["job_tokens_per_s"] > 0 and r["share_of_baseline"] > 0
    table = md_throughput(res)
    assert sum(line.startswith(("| 1 |", "| 4 |")) for line in table) == 2


@pytest.mark.model
def test_words_per_second_script_measures_agentwrite(tmp_path):
    js = tmp_path / "speed.json"
    proc = run("words_per_second.py", "--quick", "--methods", "agentwrite", "--json", str(js))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    res = json.loads(js.read_text(encoding="utf-8"))
    (row,) = res["rows"]
    assert row["method"] == "agentwrite" and row["target"] == 1000
    assert row["words"] > 0 and row["calls"] >= 2  # a plan, then sections
    assert row["raw_before"] > 0 and row["raw_after"] > 0 and row["ratio"] > 0
    assert any("| agentwrite |" in line for line in md_speed(res))
