"""Requirements as data: JSON shape checks and the impossible or contradictory cases (UserError)."""

import json

import pytest

from longform.constraints import spec
from longform.errors import UserError


def req(units=20, constraints=(), name="Week"):
    return spec.from_dict({"units": {"name": name, "count": units} if units is not None else None,
                           "constraints": list(constraints)})


def test_units_covered_by_each_kind():
    r = req(20, [{"kind": "single", "unit": 7, "text": "a"}, {"kind": "range", "from": 10, "to": 15, "text": "b"},
                 {"kind": "periodic", "every": 4, "text": "c"}, {"kind": "periodic", "every": 3, "start": 2, "text": "d"},
                 {"kind": "global", "text": "e"}])
    single, rng, every4, from2, glob = r.constraints
    assert single.units(20) == [7]
    assert rng.units(20) == [10, 11, 12, 13, 14, 15]
    assert every4.units(20) == [4, 8, 12, 16, 20]
    assert from2.units(20) == [2, 5, 8, 11, 14, 17, 20]
    assert glob.units(20) == list(range(1, 21))
    assert [c.id for c in r.for_unit(8)] == ["c3", "c4", "c5"]
    assert spec.validate(r, 2000) is r


@pytest.mark.parametrize("units,constraints,target,needle", [
    (20, [{"kind": "single", "unit": 30, "text": "x"}], 2000, "week 30, but the text has weeks 1-20"),
    (20, [{"kind": "single", "unit": 0, "text": "x"}], 2000, "week 0"),
    (10, [{"kind": "periodic", "every": 0, "text": "x"}], 2000, "every 0th week; the period must be 1 or more"),
    (10, [{"kind": "periodic", "every": 20, "text": "x"}], 2000, "starts at week 20"),
    (10, [{"kind": "periodic", "every": 2, "start": 11, "text": "x"}], 2000, "starts at week 11"),
    (10, [{"kind": "range", "from": 8, "to": 12, "text": "x"}], 2000, "weeks 8-12"),
    (10, [{"kind": "range", "from": 7, "to": 3, "text": "x"}], 2000, "from <= to"),
    (500, [], 300, "500 weeks in 300 words leaves 0.6 words a week"),
    (0, [], 300, "at least 1 week"),
    (None, [{"kind": "single", "unit": 2, "text": "x"}], 300, "no units"),
])
def test_impossible_requirements_name_the_problem(units, constraints, target, needle):
    with pytest.raises(UserError) as e:
        spec.validate(req(units, constraints), target)
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("value,needle", [
    ([], "JSON object"),
    ({"units": {"name": "Week", "count": 3}, "extra": 1}, "unknown key 'extra'"),
    ({"units": {"name": "Week"}}, "units.count is missing"),
    ({"units": {"name": "", "count": 3}}, "units.name is empty"),
    ({"units": {"name": "Week", "count": "three"}}, "whole number"),
    ({"units": {"name": "Week", "count": 3, "heading": "Week"}}, "must contain {n}"),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "weird", "text": "x"}]}, "kind must be one of"),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "single", "text": "x"}]}, "needs \"unit\""),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "range", "from": 1, "text": "x"}]}, "\"from\" and \"to\""),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "periodic", "text": "x"}]}, "needs \"every\""),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "global"}]}, "says nothing"),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "global", "text": "x", "keywords": "y"}]}, "list of strings"),
    ({"units": {"name": "Week", "count": 3}, "constraints": [{"kind": "global", "text": "x", "colour": 1}]}, "unknown key 'colour'"),
])
def test_bad_json_shapes(value, needle):
    with pytest.raises(UserError) as e:
        spec.from_dict(value)
    assert needle in str(e.value)


def test_load_file(tmp_path):
    good = tmp_path / "r.json"
    good.write_text(json.dumps({"units": {"name": "Floor", "count": 12}, "constraints": []}))
    assert spec.load(good)["units"]["count"] == 12
    bad = tmp_path / "bad.json"
    bad.write_text('{"units": ')
    with pytest.raises(UserError, match="not valid JSON"):
        spec.load(bad)
    with pytest.raises(UserError, match="cannot read"):
        spec.load(tmp_path / "missing.json")


def test_round_trip_and_chinese_heading():
    r = spec.from_dict({"units": {"name": "周", "count": 10, "heading": "第{n}周"},
                        "constraints": [{"kind": "periodic", "every": 3, "text": "提到“老王”", "keywords": ["老王"]}]})
    again = spec.from_dict(r.to_dict())
    assert again == r
    assert r.units.label(7) == "第7周"
    assert r.constraints[0].literal and r.constraints[0].units(10) == [3, 6, 9]
