"""Rule checks of a finished text, the same for every method: headings, order, keywords per unit."""

from longform.constraints import check_text, spec, split_units

REQ = spec.from_dict({"units": {"name": "Week", "count": 4}, "constraints": [
    {"kind": "single", "unit": 2, "text": "x", "keywords": ["red umbrella"]},
    {"kind": "periodic", "every": 2, "text": "y", "keywords": ["rain"]},
    {"kind": "global", "text": "first person"},
]})


def test_all_units_in_order_and_keywords_per_unit():
    text = ("## Week 1\n\nSun.\n\n## Week 2\n\nThe Red  Umbrella and rain.\n\n**Week 3**\n\nDry.\n\n"
            "Week 4: the end\n\nRain again.")
    c = check_text(text, REQ)
    assert (c.found, c.in_order, c.exact_order) == (4, 4, True)
    by_id = {r.id: r for r in c.constraints}
    assert by_id["c1"].satisfied and by_id["c2"].satisfied
    assert by_id["c3"].checked_by == "not checked" and by_id["c3"].satisfied is None
    assert (c.satisfied, c.literal_total, c.share) == (2, 2, 1.0)


def test_missing_and_out_of_order_units():
    text = "## Week 2\n\nNo umbrella.\n\n## Week 1\n\nrain\n\n## Week 4\n\ndry"
    c = check_text(text, REQ)
    assert (c.found, c.in_order, c.exact_order) == (3, 2, False)
    by_id = {r.id: r for r in c.constraints}
    assert by_id["c1"].failed_units == [2]
    assert by_id["c2"].failed_units == [2, 4]
    assert c.share == 0.0


def test_a_body_sentence_is_not_a_heading():
    text = "## Week 1\n\nWeek 2 was planned for later, when the harvest would come in and the barns be full of hay.\n\n## Week 2\n\nx"
    assert list(split_units(text, REQ.units)) == [1, 2]
    assert "harvest" in split_units(text, REQ.units)[1]


def test_chinese_headings_and_number_words():
    req = spec.from_dict({"units": {"name": "周", "count": 3, "heading": "第{n}周"},
                          "constraints": [{"kind": "single", "unit": 3, "text": "x", "keywords": ["老王"]}]})
    c = check_text("## 第一周\n\n晴。\n\n## 第2周\n\n雨。\n\n### 第三周\n\n老王来了。", req)
    assert c.exact_order and c.satisfied == 1
    en = spec.from_dict({"units": {"name": "Chapter", "count": 2}, "constraints": []})
    assert check_text("# Chapter One\n\na\n\n# Chapter Two\n\nb", en).exact_order


def test_a_requirement_copied_from_the_instruction_does_not_count():
    instruction = 'Write a 4-week diary. Week 2 must mention "red umbrella". Every 2nd week mentions "rain".'
    text = ('## Week 1\n\nSun.\n\n## Week 2\n\nWeek 2 must mention "red umbrella". Rain fell on the roof.\n\n'
            '## Week 3\n\nDry.\n\n## Week 4\n\nRain.')
    assert check_text(text, REQ).satisfied == 2
    c = check_text(text, REQ, instruction=instruction)
    by_id = {r.id: r for r in c.constraints}
    assert by_id["c1"].satisfied is False and by_id["c2"].failed_units == [4]  # "Rain." alone is a fragment of it
