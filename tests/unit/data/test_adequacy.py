"""Rows that cannot be assessed are refused by one check, named for the workflow that asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sandbox.data.adequacy import (
    MIN_CLASS_ROWS,
    MIN_EVALUATION_ROWS,
    Inputs,
    check_evaluation_rows,
    label_classes,
)
from sandbox.data.dataset import load_pilot_data, split_rows
from sandbox.data.wall import write_inputs
from sandbox.errors import DataError, OutputRejected
from sandbox.manifest import load_manifest
from sandbox.tasks import get_task
from sandbox.tasks.binary import parse_scores
from tests.pilots import make_frame, write_pilot

INPUTS = Inputs(
    source="vendor.csv",
    label="--label 'y'",
    sensitive={"sex": "--sensitive[0]"},
    more_rows="MORE",
    more_of_class="CLASS",
    one_group="GROUP",
    class_names={1: "the positive outcome", 0: "the other outcome"},
)
CLASSES = label_classes(get_task("binary_classification").sample_cells)


def _groups(n: int, values: tuple[str, ...] = ("f", "m")) -> pd.DataFrame:
    return pd.DataFrame({"sex": [values[i % len(values)] for i in range(n)]})


def test_binary_labels_have_two_classes() -> None:
    assert CLASSES == (0, 1)


def test_enough_rows_pass() -> None:
    labels = np.array([0, 1] * (MIN_EVALUATION_ROWS // 2))
    check_evaluation_rows(labels, _groups(len(labels)), classes=CLASSES, inputs=INPUTS)


@pytest.mark.parametrize(
    ("labels", "groups", "expected"),
    [
        (np.array([1]), _groups(1), "vendor.csv: 1 evaluation row; at least 20 are needed"),
        (np.ones(400, dtype=int), _groups(400), "400 of the positive outcome and 0 of the other "),
        (np.array([1] * 4 + [0] * 96), _groups(100), f"at least {MIN_CLASS_ROWS} rows of each"),
        (np.array([0, 1] * 50), _groups(100, ("f",)), "column 'sex' has a single group ('f')"),
    ],
    ids=["one row", "one class", "four positives", "one group"],
)
def test_degenerate_rows_are_refused(
    labels: np.ndarray, groups: pd.DataFrame, expected: str
) -> None:
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        check_evaluation_rows(labels, groups, classes=CLASSES, inputs=INPUTS)


def test_a_pilot_is_refused_before_its_container_starts(tmp_path: Path) -> None:
    frame = make_frame(rows=400)
    frame["eligible"] = np.where(np.arange(400) < 8, "yes", "no")
    pilot = write_pilot(tmp_path / "pilot", frame=frame)
    manifest = load_manifest(pilot)
    data = load_pilot_data(pilot, manifest)
    split = split_rows(data.table.label, evaluation_fraction=0.3, seed=7, stratify=True)
    with pytest.raises(DataError) as caught:
        write_inputs(data, split, manifest, tmp_path / "input")
    assert "data.csv: data.label 'eligible': the 120 evaluation rows hold 2 of the positive " in (
        str(caught.value)
    )
    assert "data.split.evaluation_fraction, now 0.3" in str(caught.value)
    assert not (tmp_path / "input").exists()  # nothing written for the container


def test_too_few_evaluation_rows_in_a_pilot(tmp_path: Path) -> None:
    pilot = write_pilot(tmp_path / "pilot", frame=make_frame(rows=40))
    manifest = load_manifest(pilot)
    data = load_pilot_data(pilot, manifest)
    split = split_rows(data.table.label, evaluation_fraction=0.3, seed=7, stratify=True)
    with pytest.raises(DataError, match="data.csv: 12 evaluation rows; at least 20 are needed"):
        write_inputs(data, split, manifest, tmp_path / "input")


def test_a_group_value_spelt_missing_is_refused(tmp_path: Path) -> None:
    frame = make_frame(rows=60).astype({"group": object})
    frame.loc[:3, "group"] = "(missing)"
    frame.loc[4:6, "group"] = None
    pilot = write_pilot(tmp_path / "pilot", frame=frame)
    with pytest.raises(DataError, match="column 'group' holds the value '\\(missing\\)' in 4"):
        load_pilot_data(pilot, load_manifest(pilot))


@pytest.mark.parametrize("error", [DataError, OutputRejected])
def test_scores_outside_the_unit_interval_are_refused(error: type[Exception]) -> None:
    values = pd.Series(["0.2", "1.5", "-0.2", "nan", "0.9"])
    with pytest.raises(error) as caught:
        parse_scores(values, source="f.csv", column="p", error=error)  # type: ignore[arg-type]
    assert "f.csv: column 'p': scores must be finite numbers in [0, 1]" in str(caught.value)
    assert "in 3 data rows (2, 3, 4)" in str(caught.value)
    assert parse_scores(values[[0, 4]], source="f", column="p", error=error).tolist() == [0.2, 0.9]  # type: ignore[arg-type]
