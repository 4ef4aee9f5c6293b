from __future__ import annotations

import json
from pathlib import Path

import pytest

from longform.scores import (
    LONGEN_TYPES,
    constraint_length,
    interval_for_record,
    length_score,
    longen_interval,
    longen_score,
    parse_range,
)

LONGEN_FILE = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "longen.jsonl"


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1000, 100.0),
        (1500, 250 / 3),  # 100 * (1 - 0.5/3)
        (2000, 200 / 3),  # 66.67
        (4000, 0.0),
        (5000, 0.0),
        (750, 250 / 3),  # 100 * (1 - (4/3 - 1)/2)
        (500, 50.0),
        (334, 100 * 2 / 668),  # 1000/334 = 1 + 666/334: 100 * (1 - 666/668) = 0.299...
        (333, 0.0),  # 1000/333 - 1 > 2
        (1, 0.0),
        (0, 0.0),
    ],
)
def test_length_score_known_values(actual: int, expected: float) -> None:
    assert length_score(1000, actual) == pytest.approx(expected)


def test_length_score_rounded_values() -> None:
    assert round(length_score(1000, 2000), 2) == 66.67
    assert round(length_score(1000, 334), 4) == 0.2994


def test_length_score_is_asymmetric() -> None:
    assert length_score(1000, 1200) == pytest.approx(100 * (1 - 0.2 / 3))
    assert length_score(1200, 1000) == pytest.approx(100 * (1 - 0.2 / 2))
    assert length_score(1000, 1200) > length_score(1200, 1000)


@pytest.mark.parametrize(("required", "actual"), [(0, 100), (-5, 100), (100, -1)])
def test_length_score_rejects_bad_lengths(required: int, actual: int) -> None:
    with pytest.raises(ValueError):
        length_score(required, actual)


@pytest.mark.parametrize(
    ("kind", "length", "expected"),
    [
        ("about", 2000, (1600.0, 2400.0)),
        ("above", 2000, (2000.0, 3000.0)),
        ("below", 2000, (1000.0, 2000.0)),
        ("about", 5000, (4000.0, 6000.0)),
        (" Above ", 3000, (3000.0, 4500.0)),
    ],
)
def test_longen_interval(kind: str, length: int, expected: tuple[float, float]) -> None:
    assert longen_interval(kind, length) == pytest.approx(expected)


def test_longen_interval_range() -> None:
    assert longen_interval("range", 0, (2000, 3000)) == (2000.0, 3000.0)
    assert longen_interval("range", 0, "2000-3000 words") == (2000.0, 3000.0)
    assert longen_interval("range", 0, "2000字至4000字") == (2000.0, 4000.0)


def test_longen_interval_range_needs_a_range() -> None:
    with pytest.raises(ValueError, match="range_"):
        longen_interval("range", 2000)
    with pytest.raises(ValueError):
        longen_interval("range", 0, (3000, 2000))
    with pytest.raises(ValueError, match="bucket"):
        longen_interval("range", 0, "2-4k")


def test_longen_interval_unknown_type_names_valid_types() -> None:
    with pytest.raises(ValueError) as err:
        longen_interval("roughly", 2000)
    for kind in ("about", "above", "below", "range"):
        assert kind in str(err.value)
    assert LONGEN_TYPES == ("about", "above", "below", "range")


def test_longen_interval_rejects_bad_length() -> None:
    with pytest.raises(ValueError):
        longen_interval("about", 0)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1600, 1.0),
        (2000, 1.0),
        (2400, 1.0),
        (1200, 0.5),  # 2 * 1200/1600 - 1
        (800, 0.0),
        (400, 0.0),
        (0, 0.0),
        (3000, 0.5),  # 3 - 2 * 3000/2400
        (3600, 0.0),
        (5000, 0.0),
        (1400, 0.75),
        (2700, 0.75),
    ],
)
def test_longen_score(actual: int, expected: float) -> None:
    assert longen_score(actual, 1600.0, 2400.0) == pytest.approx(expected)


def test_longen_score_rejects_bad_interval() -> None:
    with pytest.raises(ValueError):
        longen_score(100, 0.0, 10.0)
    with pytest.raises(ValueError):
        longen_score(100, 20.0, 10.0)


def test_parse_range_and_constraint_length() -> None:
    assert parse_range("6000-8000 words") == (6000, 8000)
    assert parse_range("2,000 to 3,000 words") == (2000, 3000)
    assert parse_range("2000字至3000字") == (2000, 3000)
    assert constraint_length("大约2000字") == 2000
    assert constraint_length("more than 7000 words") == 7000
    assert constraint_length("less than 10,000 words") == 10000
    with pytest.raises(ValueError):
        constraint_length("a long essay")
    with pytest.raises(ValueError):
        parse_range("about 3000 words")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"language": "zh", "range": "2-4k", "type": "about", "constraint": "大约2000字"}, (1600, 2400)),
        ({"language": "zh", "range": "2-4k", "type": "range", "constraint": "2000字至3000字"}, (2000, 3000)),
        ({"language": "zh", "range": "2-4k", "type": "above", "constraint": "大于2000字"}, (2000, 3000)),
        ({"language": "zh", "range": "2-4k", "type": "below", "constraint": "小于2500字"}, (1250, 2500)),
        (
            {"language": "en", "range": "4-6k", "type": "about", "constraint": "around 5000 words"},
            (4000, 6000),
        ),
        ({"language": "en", "range": "6-8k", "type": "range", "constraint": "6000-8000 words"}, (6000, 8000)),
        (
            {"language": "en", "range": "6-8k", "type": "above", "constraint": "more than 7000 words"},
            (7000, 10500),
        ),
        (
            {"language": "en", "range": "4-6k", "type": "below", "constraint": "less than 5000 words"},
            (2500, 5000),
        ),
    ],
)
def test_interval_for_record(record: dict[str, str], expected: tuple[int, int]) -> None:
    assert interval_for_record(record) == pytest.approx(expected)


@pytest.mark.skipif(not LONGEN_FILE.exists(), reason="shared benchmark data not present")
def test_interval_for_every_longen_row() -> None:
    rows = [json.loads(line) for line in LONGEN_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 240
    for row in rows:
        lo, hi = interval_for_record(row)
        assert 1000 <= lo < hi <= 12000, row
        assert longen_score(int((lo + hi) / 2), lo, hi) == 1.0
