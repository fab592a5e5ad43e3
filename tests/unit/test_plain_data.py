"""Plain data: what may travel into spec.json, the reports, the trail and MLflow unchanged."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from sandbox.plain_data import bad_text, check_plain, shown_path, writable_text


@pytest.mark.parametrize(
    "value",
    [{}, {"C": 1.0, "max_iter": 100, "solver": "lbfgs", "grid": [1, 2, None, True, {"a": "é"}]}],
)
def test_json_data_passes(value: dict[str, Any]) -> None:
    check_plain(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"when": dt.date(2024, 1, 1)}, "when: a date is not JSON data"),
        ({"at": dt.datetime(2024, 1, 1)}, "at: a datetime is not JSON data"),
        ({"b": b"x"}, "b: a bytes is not JSON data"),
        ({"s": "\ud800"}, "s: text is not valid UTF-8"),
        ({"\udcff": 1}, "a key: text is not valid UTF-8"),
        ({"x": [1, {"y": float("inf")}]}, r"x\[1\].y: inf is not a JSON number"),
        ({"k": {1: 2}}, "k: keys must be text"),
        ({"s": "x" * 10_001}, "longer than 10000"),
        ({"n": list(range(10_001))}, "more than 10000 values"),
    ],
)
def test_anything_else_is_refused_with_its_path(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_plain(value)


def test_depth_is_bounded_without_recursion() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than 16"):
        check_plain({"deep": deep})
    assert bad_text(deep) is None


def test_text_that_is_not_utf8_is_found_and_shown_escaped() -> None:
    assert bad_text({"pilot": {"purpose": ["ok", "\udc80"]}}) == "pilot.purpose[1]"
    assert bad_text({"ok": "é"}) is None
    assert writable_text("a\udcffb") == "a\\udcffb"
    assert shown_path(os.fsdecode(b"/tmp/pilot-\xff")) == "/tmp/pilot-\\xff"
