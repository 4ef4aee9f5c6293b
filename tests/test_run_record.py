import json
import os

from longform import run_record as rr


def test_manuscript_front_matter_round_trip(tmp_path):
    meta = rr.manuscript_meta(method="agentwrite", model="embedded:x.gguf", instruction="Write: a \"test\"\n",
                              target_words=1000, words=950, lang="en", seed=0)
    rr.write_manuscript(tmp_path, "## A\n\nBody text.", meta)
    front, body = rr.read_manuscript(tmp_path / rr.MANUSCRIPT)
    assert front["method"] == "agentwrite" and front["target_words"] == 1000 and front["words"] == 950
    assert 90 < front["length_score"] < 100
    assert front["instruction"] == "Write: a \"test\"\n"
    assert body.startswith("## A") and body.endswith("Body text.\n")


def test_atomic_write_leaves_no_temp_and_readable_mode(tmp_path):
    rr.write_run(tmp_path, {"a": 1})
    rr.write_run(tmp_path, {"a": 2})
    assert rr.read_run(tmp_path) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == [rr.RUN]
    assert os.stat(tmp_path / rr.RUN).st_mode & 0o044  # group/other can read, like any file


def test_plan_json(tmp_path):
    rr.write_plan(tmp_path, [{"title": "A", "main_point": "a", "words": 600}, {"title": "B", "main_point": "b", "words": 400}],
                  {"fallback": True}, 1000)
    plan = json.loads((tmp_path / rr.PLAN).read_text())
    assert plan["fallback"] is True and plan["planned_words"] == 1000 and len(plan["sections"]) == 2


def test_run_files_are_written_without_secrets(tmp_path):
    rr.write_json(tmp_path / "run.json", {"api_key": "sk-123", "usage": {"prompt_tokens": 5},
                                          "nested": [{"authorization": "Bearer x"}]})
    out = rr.read_json(tmp_path / "run.json")
    assert out["api_key"] == "[REDACTED]" and out["usage"]["prompt_tokens"] == 5
    assert out["nested"][0]["authorization"] == "[REDACTED]"


def test_wipe_removes_only_run_files(tmp_path):
    for name in (rr.MANUSCRIPT, rr.PLAN, rr.RUN, rr.CALLS, rr.CHECKPOINT, "notes.txt"):
        (tmp_path / name).write_text("x")
    removed = rr.wipe_run(tmp_path)
    assert set(removed) == {rr.MANUSCRIPT, rr.PLAN, rr.RUN, rr.CALLS, rr.CHECKPOINT}
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

