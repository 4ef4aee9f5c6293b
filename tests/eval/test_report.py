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


def test_judge_gives_s_q_and_a_missing_verdict_stays_missing(tmp_path, ruler_file, use_models):
    verdict = json.dumps({"relevance": 5, "accuracy": 4, "coherence": 4, "clarity": 3, "breadth_and_depth": 3,
                          "reading_experience": 5})

    def reply(messages, params):
        if params.json_schema is not None:  # the judge's call
            return "not a verdict" if any("topic 1" in m["content"] for m in messages) else verdict
        return reply_by_prompt()(messages, params)

    use_models(lambda: ScriptedFakeBackend(default=reply))
    out = tmp_path / "ev"
    assert main(["eval", "ruler", "--data", str(ruler_file), "--method", "direct", "--judge", "embedded",
                 "--out", str(out), "--no-cache", "--no-progress"]) == 0
    rows = {json.loads(line)["sample_id"]: json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()}
    s_q = (4 + 3 + 3 + 2 + 2 + 4) * 25 / 6  # the published mapping: mean of (x - 1) * 25
    for sid in ("ruler-en-100-00", "ruler-en-300-02"):
        assert abs(rows[sid]["scores"]["s_q"] - s_q) < 1e-3
        assert abs(rows[sid]["scores"]["s"] - (rows[sid]["scores"]["s_l"] + s_q) / 2) < 1e-3
        assert rows[sid]["usage"]["judging"]["calls"] == 1
    bad = rows["ruler-en-200-01"]
    assert bad["scores"]["s_q"] is None and bad["judge"]["missing"] is True  # never a made-up number
    report = (out / "report.md").read_text()
    assert "1 missing" in report and "S_q mean" in report


def test_constraints_benchmark_scores_units_and_constraints_by_rule(tmp_path, use_models):
    from tests.eval.conftest import write_jsonl

    req = {"units": {"name": "Week", "count": 4},
           "constraints": [{"kind": "single", "unit": 2, "text": "mention \"the red kite\"", "keywords": ["the red kite"]},
                           {"kind": "periodic", "every": 2, "start": 2, "text": "mention \"rain\"", "keywords": ["rain"]}]}
    data = write_jsonl(tmp_path / "units.jsonl", [
        {"id": "full", "lang": "en", "prompt": "A 4-week diary (FULL), about 200 words.", "target_words": 200, "requirements": req},
        {"id": "short", "lang": "en", "prompt": "A 4-week diary (SHORT), about 200 words.", "target_words": 200, "requirements": req},
    ])

    def reply(messages, params):
        full = any("FULL" in m["content"] for m in messages)
        weeks = [1, 2, 3, 4] if full else [1, 2, 3]
        body = {1: "A calm week.", 2: "I saw the red kite in the rain.", 3: "Dry days.", 4: "More rain came."}
        return "\n\n".join(f"## Week {w}\n\n{body[w]}" for w in weeks)

    use_models(lambda: ScriptedFakeBackend(default=reply))
    out = tmp_path / "ev"
    assert main(["eval", "constraints", "--data", str(data), "--method", "direct", "--out", str(out), "--no-cache",
                 "--no-progress"]) == 0
    rows = {json.loads(line)["sample_id"]: json.loads(line)["scores"] for line in (out / "results.jsonl").read_text().splitlines()}
    assert rows["units-full"]["completion"] == 1.0 and rows["units-full"]["satisfaction"] == 1.0
    assert rows["units-short"]["completion"] == 0.75  # week 4 missing
    assert rows["units-short"]["satisfaction"] == 0.5  # "rain" in week 4 cannot hold
    report = (out / "report.md").read_text()
    assert "constraints satisfied mean" in report and "units present" in report
