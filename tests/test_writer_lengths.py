"""The writer aims at the interval an instruction states when no --words is given ("at least N"
aims at the middle of [N, 1.5N], not at N) and records the interval and LonGen score beside S_l.
The full set of phrasings on the embedded default is measured by bench/writer_intervals.py."""

import json
import subprocess
import sys

import pytest

from longform import run_record as rr
from longform.writer_cli import main, stated_length, words_from_prompt
from tests.model_threads import THREADS_ARGV


def test_target_from_the_stated_interval():
    assert words_from_prompt("Write at least 400 words about tea.") == 500
    assert words_from_prompt("请写一篇不少于400字的文章。") == 500
    assert words_from_prompt("Write between 300 and 500 words about tea.") == 400
    assert words_from_prompt("Write no more than 400 words about tea.") == 300
    assert stated_length("Write at least 400 words.") == {"kind": "at_least", "length": 400, "lo": 400.0,
                                                          "hi": 600.0, "target_words": 500}
    assert stated_length("Write about tea.") is None


def test_no_stated_length_and_no_words_is_one_line_exit_2(tmp_path, capsys):
    assert main(["Write a long essay about tea.", "--out", str(tmp_path / "o")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "no target length" in err[0] and "--words" in err[0]


def test_front_matter_records_interval_and_longen():
    spec = stated_length("Write at least 400 words.")
    meta = rr.manuscript_meta(method="direct", model="m", instruction="i", target_words=500, words=420, lang="en",
                              seed=0, length=spec)
    assert meta["stated_length"] == {"kind": "at_least", "length": 400, "lo": 400.0, "hi": 600.0}
    assert meta["longen_score"] == 1.0 and meta["length_score"] == pytest.approx(100 * (1 - (500 / 420 - 1) / 2), abs=0.01)
    low = rr.manuscript_meta(method="direct", model="m", instruction="i", target_words=500, words=300, lang="en",
                             seed=0, length=spec)
    assert low["longen_score"] == 0.5  # 2 * 300/400 - 1
    assert "longen_score" not in rr.manuscript_meta(method="direct", model="m", instruction="i", target_words=500,
                                                    words=300, lang="en", seed=0)


@pytest.mark.model
def test_writer_lands_inside_an_at_least_interval(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "longform.writer_cli",
                        "Write a short note about green tea. Write at least 120 words.",
                        "--out", str(out), "--no-cache", *THREADS_ARGV],
                       capture_output=True, text=True, timeout=900, check=False)
    assert r.returncode == 0, r.stderr
    front, _ = rr.read_manuscript(out / rr.MANUSCRIPT)
    run = json.loads((out / rr.RUN).read_text())
    assert front["target_words"] == run["target_words"] == 150  # the middle of [120, 180], not 120
    assert front["stated_length"] == {"kind": "at_least", "length": 120, "lo": 120.0, "hi": 180.0}
    assert 120 <= front["words"] <= 180, front  # program-controlled length
    assert front["longen_score"] == run["longen_score"] == 1.0
    assert run["length"]["kind"] == "at_least" and "LonGen 1.00" in r.stderr
