import dataclasses
import re
from pathlib import Path

import pytest

from longform.dataset_config import _SECTIONS, DatasetConfig, describe_keys, from_dict, load_config
from longform.errors import UserError


def test_default_config_loads():
    cfg = load_config("configs/dataset/default.yaml")
    assert cfg.name == "default" and cfg.source.limit and cfg.source.limit <= 6
    assert set(cfg.generation.methods) <= {"direct", "agentwrite"}
    assert max(cfg.augment.lengths) <= 600 and cfg.augment.per_instruction >= 1 and not cfg.augment.keep_original


def test_unknown_keys_name_the_key_and_file(tmp_path):
    f = tmp_path / "job.yaml"
    f.write_text("name: x\nfilters:\n  min_lenght_score: 70\n")
    with pytest.raises(UserError, match=r"job.yaml: unknown key `filters.min_lenght_score` \(did you mean `filters.min_length_score`\?\)"):
        load_config(f)
    f.write_text("nmae: x\n")
    with pytest.raises(UserError, match=r"job.yaml: unknown key `nmae`"):
        load_config(f)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"generation": {"samples": "two"}}, "`generation.samples` must be int"),
        ({"generation": {"methods": ["cogwrite"]}}, "unknown method 'cogwrite'"),
        ({"generation": {"methods": []}}, "at least one method"),
        ({"augment": {"kinds": ["roughly"]}}, "unknown kind 'roughly'"),
        ({"filters": {"near_dup_threshold": 2}}, "near_dup_threshold"),
        ({"name": "a/b"}, "plain folder name"),
        ({"output": {"part_rows": 0}}, "output.part_rows"),
        ({"model": "embedded"}, "`model` must be a mapping"),
        ({"source": {"limit": 0}}, "`source.limit` must be at least 1"),
        ({"source": {"limit": -1}}, "`source.limit` must be at least 1"),
        ({"model": {"timeout_s": 0}}, "`model.timeout_s` must be a positive"),
        ({"model": {"stall_timeout_s": -5}}, "`model.stall_timeout_s` must be a positive"),
        ({"model": {"concurrency": 0}}, "`model.concurrency` must be at least 1"),
    ],
)
def test_bad_values_name_the_key(data, message):
    with pytest.raises(UserError, match=re.escape(message)):
        from_dict(data, "job.yaml")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_config(tmp_path / "none.yaml")
    f = tmp_path / "bad.yaml"
    f.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="bad.yaml: line"):
        load_config(f)
    f.write_text("- a\n- b\n")
    with pytest.raises(UserError, match="top level must be a mapping"):
        load_config(f)


def test_overrides_and_generation_hash(tmp_path):
    base = load_config("configs/dataset/default.yaml")
    over = load_config("configs/dataset/default.yaml", {"model.model": "openai:x", "output.dir": str(tmp_path)})
    assert over.model.model == "openai:x" and over.dataset_dir == tmp_path / "default"
    assert over.generation_hash() != base.generation_hash()
    same = load_config("configs/dataset/default.yaml", {"filters.min_length_score": 10})
    assert same.generation_hash() == base.generation_hash()


def test_every_key_is_documented():
    readme = Path("configs/dataset/README.md").read_text(encoding="utf-8")
    keys = [f.name for f in dataclasses.fields(DatasetConfig) if f.name not in _SECTIONS]
    keys += [f"{s}.{g.name}" for s, cls in _SECTIONS.items() for g in dataclasses.fields(cls)]
    missing = [k for k in keys if f"`{k}`" not in readme]
    assert not missing, f"undocumented keys in configs/dataset/README.md: {missing}"
    assert all(f.metadata.get("help") for cls in [DatasetConfig, *_SECTIONS.values()] for f in dataclasses.fields(cls))
    assert "min_length_score" in describe_keys()


def test_an_empty_config_file_is_refused_not_taken_for_the_default_job(tmp_path):
    f = tmp_path / "job.yaml"
    f.write_text("")
    with pytest.raises(UserError, match=r"job.yaml is empty; start from configs/dataset/default.yaml"):
        load_config(f)


def test_an_output_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UserError, match=r"`output.dir` points at .*afile, which is a file"):
        from_dict({"output": {"dir": str(tmp_path / "afile")}})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "job").write_text("x")
    with pytest.raises(UserError, match=r"`output.dir/name` points at .*job, which is a file"):
        from_dict({"name": "job", "output": {"dir": str(tmp_path / "out")}})
