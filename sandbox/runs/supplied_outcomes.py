"""The outcomes of a predictions file, from whole frames or from integer-coded columns.

A predictions-only audit reads its columns with :func:`sandbox.data.supplied.read_supplied`
when it can, each as its task type needs it (`READS`):

- a 0/1 outcome (binary labels and predictions, a ranking's labels) and a class (multiclass
  labels and predictions) come as codes: the task's own `encode_supplied` encodes each
  distinct value once, and the result is spread to the rows by their codes (classes as a
  categorical column of the class texts, which the multiclass evaluation counts by code);
- a number (a regression's label and prediction, a ranking's scores) comes as float64, a
  missing value as NaN, and goes through the task's own `encode_supplied` (or
  `encode_supplied_prediction`) whole, so its checks and messages are the task's;
- sensitive attributes become categorical columns whose texts are `group_columns`' own.

No object column of millions of rows is built: a coded per-row array is a byte a row (0/1
outcomes, class and group codes), filled a slice at a time, and the outcomes, and every
message about them, are the same as when the file is read whole (`read_table`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.data.coded_blocks import code_type
from sandbox.errors import DataError

if TYPE_CHECKING:
    from sandbox.data.adequacy import Inputs
    from sandbox.data.supplied import CodedColumn, SuppliedColumns
    from sandbox.tasks import Outcomes, Task

__all__ = [
    "GROUP_FIX",
    "READS",
    "check_columns",
    "coded_outcomes",
    "read_coded",
    "spread",
    "supplied_inputs",
    "wanted_columns",
]

#: How to avoid a sensitive value that reads as the missing group.
GROUP_FIX = "rename that value in the file, or leave those cells empty if it means missing"
#: Rows spread at a time: bounds the index arrays numpy makes from narrow codes.
_SLICE: Final = 1 << 20
#: How each task type's label and prediction are read: as a 0/1 outcome or a class (codes),
#: or as a number (float64). A task type not listed is read whole.
READS: Final = {
    "binary_classification": ("outcome", "outcome"),
    "multiclass_classification": ("class", "class"),
    "ranking": ("outcome", "number"),
    "regression": ("number", "number"),
}


def check_columns(columns: Sequence[str], path: Path, wanted: dict[str, str]) -> None:
    """DataError naming the option whose column the file lacks."""
    for option, column in wanted.items():
        if column not in columns:
            available = ", ".join(map(str, list(columns)[:20]))
            raise DataError(
                f"{path}: {option}: column {column!r} not in the file (columns: {available})"
            )


def supplied_inputs(
    data: Path, label: str, sensitive: Sequence[str], positive: str | None
) -> Inputs:
    """How messages about a predictions file name it, its options and the fixes."""
    from sandbox.data.adequacy import MIN_EVALUATION_ROWS, Inputs

    return Inputs(
        source=str(data),
        label=f"--label {label!r}",
        sensitive={c: f"--sensitive[{i}]" for i, c in enumerate(sensitive)},
        more_rows=f"supply a file of at least {MIN_EVALUATION_ROWS} rows",
        more_of_class="supply rows of both outcomes, or check which value --positive names",
        one_group="leave it out of --sensitive, or supply rows of several groups",
        class_names={
            1: f"the positive outcome{f' {positive!r}' if positive else ' (1/true)'}",
            0: "the other outcome",
        },
    )


def wanted_columns(
    label: str, prediction: str, score: str | None, sensitive: Sequence[str]
) -> dict[str, str]:
    """Each option that names a column, with the column it names."""
    wanted = {"--label": label, "--prediction": prediction}
    wanted |= {"--score": score} if score else {}
    return wanted | {f"--sensitive[{i}]": c for i, c in enumerate(sensitive)}


def read_coded(
    data: Path,
    task: Task,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    score: str | None,
) -> SuppliedColumns | None:
    """The used columns of a file, each as its task reads it (`READS`); None to read it whole."""
    from sandbox.data.supplied import read_supplied

    reads = READS.get(task.name)
    if reads is None:
        return None
    named = tuple(zip((label, prediction), reads, strict=True))
    coded = [column for column, how in named if how != "number"]
    numbers = [column for column, how in named if how == "number"]
    return read_supplied(
        data,
        coded=list(dict.fromkeys([*coded, *sensitive])),
        numbers=list(dict.fromkeys(numbers)),
        scores=[score] if score else [],
    )


def coded_outcomes(
    supplied: SuppliedColumns,
    data: Path,
    task: Task,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    score: str | None,
    positive: str | None,
) -> Outcomes:
    """The coded rows as outcomes, checked as a pilot's evaluation rows are checked."""
    from sandbox.data.adequacy import check_evaluation_rows, label_classes
    from sandbox.tasks import Outcomes

    check_columns(supplied.columns, data, wanted_columns(label, prediction, score, sensitive))
    source = str(data)
    reads = READS[task.name]
    y_true = _outcome(task, supplied, label, reads[0], source, positive, prediction=False)
    y_pred = _outcome(task, supplied, prediction, reads[1], source, positive, prediction=True)
    groups = pd.DataFrame(
        {c: _groups(supplied.coded[c], c, source) for c in sensitive},
        index=pd.RangeIndex(supplied.rows),
    )
    check_evaluation_rows(
        y_true,
        groups,
        classes=label_classes(task.sample_cells),
        inputs=supplied_inputs(data, label, sensitive, positive),
    )
    y_score = supplied.scores[score] if score else None
    return Outcomes(labels=y_true, predictions=y_pred, scores=y_score, groups=groups)


def _outcome(
    task: Task,
    supplied: SuppliedColumns,
    name: str,
    how: str,
    source: str,
    positive: str | None,
    *,
    prediction: bool,
) -> Any:
    """One label or prediction column, encoded as the task encodes it when read whole."""
    if how == "class":
        return _classes(task, supplied.coded[name], name, source, positive)
    if how == "outcome":
        return _encoded(task, supplied.coded[name], name, source, positive)
    values = pd.Series(supplied.numbers[name], copy=False)
    # a task whose prediction is not of its label's kind (a ranking's score) reads it its way
    own = getattr(task, "encode_supplied_prediction", None)
    if prediction and callable(own):
        return own(values, column=name, source=source)
    return task.encode_supplied(values, column=name, source=source, positive=positive)


def _classes(task: Task, column: CodedColumn, name: str, source: str, positive: str | None) -> Any:
    """Each row's class as a categorical of the class texts the task gives each value."""
    from sandbox.tasks.multiclass import missing_classes

    missing = column.missing_rows()
    if missing:  # the task's own refusal, counted from the codes
        first = column.first_row(column.missing)
        raise missing_classes(missing, int(first or 0), column=name, source=source)
    # only values that occur (a Parquet dictionary may hold others), each encoded once
    used = np.flatnonzero(column.counts[: len(column.values)] > 0)
    each = column.values.iloc[used].reset_index(drop=True)
    texts = task.encode_supplied(each, column=name, source=source, positive=positive).tolist()
    categories = sorted(set(texts))  # values with the same text are one class
    position = {text: i for i, text in enumerate(categories)}
    code_of = np.zeros(len(column.values), dtype=code_type(len(categories)))
    code_of[used] = [position[text] for text in texts]
    codes = spread(code_of, column.codes)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _encoded(
    task: Task, column: CodedColumn, name: str, source: str, positive: str | None
) -> np.ndarray:
    """`encode_supplied` of each distinct value, spread to the rows by their codes."""
    first = column.first_row(column.missing)
    if first is not None:
        # the rows up to the first missing one: the task's message names that data row
        head = column.values.iloc[column.codes[: first + 1]].reset_index(drop=True)
        task.encode_supplied(head, column=name, source=source, positive=positive)
    each = task.encode_supplied(column.values, column=name, source=source, positive=positive)
    return spread(np.asarray(each), column.codes)


def _groups(column: CodedColumn, name: str, source: str) -> Any:
    """The group of each row as a categorical column of `group_columns`' texts."""
    from sandbox.data.table import MISSING_GROUP, group_columns

    frame = pd.DataFrame({name: column.values})
    texts = frame[name].astype("string").str.strip()
    held = (texts == MISSING_GROUP).fillna(False).to_numpy(dtype=bool)
    if held.any():
        # only the rows holding it: the message counts them as the whole column would
        rows = column.values[held].repeat(column.counts[held])
        group_columns(pd.DataFrame({name: rows}), [name], source=source, fix=GROUP_FIX)
    each = group_columns(frame, [name], source=source, fix=GROUP_FIX)[name].to_numpy(dtype=object)
    categories = sorted(set(each.tolist()))
    position = {text: i for i, text in enumerate(categories)}
    code_of = np.array([position[text] for text in each], dtype=np.int64)
    codes = spread(code_of.astype(code_type(len(categories))), column.codes)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def spread(table: npt.NDArray[Any], codes: npt.NDArray[np.signedinteger[Any]]) -> np.ndarray:
    """`table[codes]` in `table`'s type, a slice at a time (no full-length index array)."""
    out = np.empty(len(codes), dtype=table.dtype)
    for start in range(0, len(codes), _SLICE):
        np.take(table, codes[start : start + _SLICE], out=out[start : start + _SLICE])
    return out
