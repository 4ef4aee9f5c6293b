"""results.jsonl's scores are the published formulas applied to the stored texts; the report's
tables, note and plot are there."""

from __future__ import annotations

import json

from longform.cli import main
from longform.text import count_words
from tests.eval.conftest import reply_by_prompt
from tests.fakes import ScriptedFakeBackend


def published_s_l(required: int, actual: int) -> float:
    """LongBench-Write S_l as published (THUDM/LongWriter, evaluation/eval_length.py)."""
    if actual == 0:
        return 0.0
    if actual > required:
        return 100 * max(0.0, 1 - (actual / required - 1) / 3)
    return 100 * max(0.0, 1 - (required / actual - 1) / 2)


def published_longen(actual: int, row: dict) -> float:
    """LonGen's interval score (QwenLM/Self-Lengthen, eval): the interval from type and constraint."""
    import re

    nums = [int(x) for x in re.findall(r"\d+", row["constraint"])]
    a, b = {"about": (0.8 * nums[0], 1.2 * nums[0]), "above": (nums[0], 1.5 * nums[0]),
            "below": (0.5 * nums[0], nums[0]), "range": (nums[0], nums[-1])}[row["type"]]
    if actual < a:
        return max(0.0, 2 * actual / a - 1)
    if actual > b:
        return max(0.0, 3 - 2 * actual / b)
    return 1.0


def test_results_scores_recomputed_from_stored_texts(tmp_path, longen_file, use_models):
    # replies of 1.1x the first number in the prompt: inside some intervals, outside others
    use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt(factor=1.1)))
    out = tmp_path / "ev"
    rc = main(["eval", "longen", "--data", str(longen_file), "--method", "direct", "--out", str(out),
               "--no-cache", "--no-progress"])
    assert rc == 0
    rows = {json.loads(line)["sample_id"]: json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()}
    data = [json.loads(line) for line in longen_file.read_text().splitlines()]
    assert len(rows) == len(data) == 5
    longen_values = set()
    for i, row in enumerate(data):
        r = rows[f"longen-{row['language']}-{i:03d}"]
        words = count_words(r["text"])
        assert r["words"] == r["scores"]["words"] == words > 0
        assert abs(r["scores"]["s_l"] - published_s_l(r["required_words"], words)) < 1e-3
        assert abs(r["scores"]["longen"] - published_longen(words, row)) < 1e-3
        longen_values.add(round(r["scores"]["longen"], 3))
        lo, hi = r["interval"]
        assert r["required_words"] == round((lo + hi) / 2)  # the writer aims at the middle
        assert r["usage"]["generation"]["calls"] == 1 and r["usage"]["generation"]["completion_tokens"] > 0
    assert len(longen_values) > 1  # the check saw scores inside and outside intervals, not one value


def test_report_tables_note_and_plot(tmp_path, longen_file, use_models):
    use_models(lambda: ScriptedFakeBackend(default=reply_by_prompt(factor=1.1)))
    out = tmp_path / "ev"
    assert main(["eval", "longen", "--data", str(longen_file), "--method", "direct,agentwrite", "--out", str(out),
                 "--no-cache", "--no-progress"]) == 0
    report = (out / "report.md").read_text()
    for heading in ("## By method", "## LonGen score by constraint type", "## S_l by language", "## S_l by length",
                    "## Failures"):
        assert heading in report
    assert "S_q skipped: no --judge given" in report
    assert "| direct |" in report and "| agentwrite |" in report
    png = (out / "scatter.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # --report-only rebuilds the same report without generating
    assert main(["eval", "longen", "--data", str(longen_file), "--method", "direct,agentwrite", "--out", str(out),
                 "--report-only"]) == 0
