import json

import pytest

from longform.errors import UserError
from longform.instructions import augment, find_constraint, load_instructions, parse_row, with_constraint

SEEDS = "configs/dataset/seed_instructions.jsonl"


@pytest.mark.parametrize(
    "text, kind, lo, hi",
    [
        ("Write a 2000-word essay on tea.", "about", 1600, 2400),
        ("Write about 500 words on rivers.", "about", 400, 600),
        ("Write a 10,000-word history of tea.", "about", 8000, 12000),
        ("Write between 800 and 1200 words explaining sourdough.", "range", 800, 1200),
        ("Write 300-500 words about bees.", "range", 300, 500),
        ("Write at least 1500 words of a fantasy story.", "at_least", 1500, 2250),
        ("Write no more than 600 words: a eulogy.", "at_most", 300, 600),
        ("Keep it under 200 words.", "at_most", 100, 200),
        ("Write a 2k word report.", "about", 1600, 2400),
        ("写一篇5000字左右的小说。", "about", 4000, 6000),
        ("请写一篇不少于3000字的报告。", "at_least", 3000, 4500),
        ("字数不超过500字。", "at_most", 250, 500),
        ("字数在300到500字之间。", "range", 300, 500),
        ("请写一篇1万字的文章。", "about", 8000, 12000),
        ("写500字以内的短文。", "at_most", 250, 500),
    ],
)
def test_find_constraint(text, kind, lo, hi):
    c = find_constraint(text)
    assert c is not None and c.kind == kind and (c.lo, c.hi) == (lo, hi)


def test_no_constraint_in_plain_instruction():
    assert find_constraint("Write a short story about a lighthouse keeper.") is None
    assert find_constraint("写一篇关于秋天的散文。") is None


def test_target_is_the_middle_of_the_interval():
    assert find_constraint("Write at least 400 words.").target_words == 500
    assert find_constraint("Write no more than 400 words.").target_words == 300
    assert find_constraint("Write about 400 words.").target_words == 400


def test_longen_and_longbench_fields():
    row = {"query": "请写一篇文章。建议控制在约2000字。", "type": "about", "constraint": "大约2000字", "language": "zh"}
    ins = parse_row("f:1", row, 1000)
    assert ins.constraint.kind == "about" and ins.target_words == 2000 and ins.lang == "zh"
    row = {"query": "Write a report.", "type": "above", "constraint": "more than 3000 words"}
    assert parse_row("f:1", row, 1000).constraint.kind == "at_least"
    row = {"prompt": "Write a thank-you email to a bank teller", "length": 100, "type": "Functional Writing"}
    ins = parse_row("f:2", row, 1000)
    assert ins.constraint.kind == "about" and ins.target_words == 100
    ins = parse_row("f:3", {"instruction": "Describe a garden."}, 700)
    assert ins.constraint is None and ins.target_words == 700


@pytest.mark.parametrize("kind", ["about", "range", "at_least", "at_most"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_augmented_text_states_its_constraint(kind, lang):
    base = "Describe a harbour at dawn." if lang == "en" else "描写清晨的港口。"
    text, c = with_constraint(base, lang, kind, 400)
    assert text.startswith(base.rstrip())
    found = find_constraint(text)
    assert found is not None and found.kind == c.kind and (found.lo, found.hi) == (c.lo, c.hi)


def test_augment_is_deterministic_and_keeps_explicit_lengths():
    rows = [parse_row(f"f:{i}", r, 1000) for i, r in enumerate(
        [{"instruction": "Describe a harbour at dawn."}, {"instruction": "Write about 300 words on owls."}])]
    a = augment(rows, per_instruction=2, kinds=["about", "at_most"], lengths=[300, 500], keep_original=False, seed=1)
    b = augment(rows, per_instruction=2, kinds=["about", "at_most"], lengths=[300, 500], keep_original=False, seed=1)
    assert [x.instruction for x in a] == [x.instruction for x in b]
    assert len(a) == 3  # two variants of the first, the second (explicit length) as it is
    assert all(x.augmented_from == "Describe a harbour at dawn." for x in a[:2])
    assert a[2].instruction == "Write about 300 words on owls." and a[2].augmented_from is None
    assert len({x.instruction for x in a[:2]}) == 2
    kept = augment(rows, per_instruction=1, kinds=["about"], lengths=[300], keep_original=True, seed=1)
    assert [x.instruction for x in kept][:2] == ["Describe a harbour at dawn.", "Describe a harbour at dawn. Write about 300 words."]


def test_seed_set_covers_genres_lengths_and_languages():
    ins, report = load_instructions(SEEDS, default_target_words=1000)
    assert len(ins) >= 24 and report.invalid == [] and report.duplicates == 0
    langs = {i.lang for i in ins}
    assert langs == {"en", "zh"}
    assert len({i.meta["genre"] for i in ins}) >= 8
    explicit = [i for i in ins if i.constraint]
    assert {c.constraint.kind for c in explicit} >= {"about", "at_least", "at_most", "range"}
    assert max(i.target_words for i in explicit) >= 10000
    assert sum(1 for i in ins if i.constraint is None) >= 20  # room for augmentation


def test_jsonl_errors_name_file_and_line(tmp_path):
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(UserError, match="missing.jsonl does not exist"):
        load_instructions(missing, default_target_words=500)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "ok"}\n\n{"instruction": "broken"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.jsonl:3: not valid JSON"):
        load_instructions(bad, default_target_words=500)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"instruction": "ok"}\n{"title": "no instruction here"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"empty.jsonl:2: record has no instruction"):
        load_instructions(empty, default_target_words=500)
    notobj = tmp_path / "list.jsonl"
    notobj.write_text('["a"]\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"list.jsonl:1: expected a JSON object"):
        load_instructions(notobj, default_target_words=500)
    ins, report = load_instructions(empty, default_target_words=500, skip_invalid=True)
    assert [i.instruction for i in ins] == ["ok"] and len(report.invalid) == 1 and "empty.jsonl:2" in report.invalid[0]
    with pytest.raises(UserError, match="unknown format"):
        load_instructions(tmp_path / "x.csv", default_target_words=500) if (tmp_path / "x.csv").write_text("a") else None


def test_parquet_and_hf_directory_sources(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    rows = [{"prompt": "Write about 300 words on owls.", "type": "x"}, {"prompt": "Describe a harbour."},
            {"prompt": "Describe a harbour."}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "i.parquet")
    ins, report = load_instructions(tmp_path / "i.parquet", default_target_words=500)
    assert [i.instruction for i in ins] == ["Write about 300 words on owls.", "Describe a harbour."]
    assert report.duplicates == 1 and ins[0].source.endswith("i.parquet:row 0")
    Dataset.from_list([{"instruction": "Write a poem about rain.", "lang": "en"}]).save_to_disk(str(tmp_path / "hf"))
    ins, _ = load_instructions(tmp_path / "hf", default_target_words=500)
    assert [i.instruction for i in ins] == ["Write a poem about rain."]
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match="bad.parquet: not a readable Parquet file"):
        load_instructions(tmp_path / "bad.parquet", default_target_words=500)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(UserError, match="no Hugging Face dataset"):
        load_instructions(tmp_path / "empty_dir", default_target_words=500)


def test_named_field(tmp_path):
    f = tmp_path / "i.jsonl"
    f.write_text(json.dumps({"text": "Write a fable.", "instruction": "ignored"}) + "\n", encoding="utf-8")
    ins, _ = load_instructions(f, default_target_words=500, field_name="text")
    assert ins[0].instruction == "Write a fable."
