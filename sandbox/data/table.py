"""The pilot table: a pilot's rows in explicit parts, never packed into column-name conventions.

`row_ids` name the rows across the container wall; `features` are the only columns the model
sees; `label` is the task-encoded label; `groups` hold the
sensitive attributes as text, used only for auditing, missing values as their own group.

The missing group is shown as ``(missing)``, so a real value spelt ``(missing)`` would merge
with it unseen: such a value is refused, naming the column and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.data.reader import stripped
from sandbox.errors import DataError

__all__ = ["MISSING_GROUP", "PilotTable", "group_columns"]

MISSING_GROUP = "(missing)"


def group_columns(
    frame: pd.DataFrame,
    columns: list[str] | tuple[str, ...],
    *,
    source: str = "the data",
    fix: str = "rename that value",
) -> pd.DataFrame:
    """Sensitive attributes as text, a missing value as the group ``(missing)``.

    DataError when a column holds the text ``(missing)`` itself; `fix` says how to avoid it.
    """
    groups = {}
    for column in columns:
        text = stripped(frame[column].astype("string"))
        if bool((text == MISSING_GROUP).any()):
            count = int((text == MISSING_GROUP).sum())
            raise DataError(
                f"{source}: column {column!r} holds the value {MISSING_GROUP!r} in {count} "
                f"rows, which would merge with the rows whose value is missing; {fix}"
            )
        groups[column] = text.fillna(MISSING_GROUP).astype(str)
    return pd.DataFrame(groups, index=frame.index)


@dataclass(frozen=True, kw_only=True)
class PilotTable:
    """Rows of a pilot: ids, model features, encoded label, group attributes (aligned)."""

    row_ids: np.ndarray
    features: pd.DataFrame
    label: np.ndarray
    groups: pd.DataFrame

    def __post_init__(self) -> None:
        sizes = {len(self.row_ids), len(self.features), len(self.label), len(self.groups)}
        if len(sizes) != 1:
            raise ValueError(f"the parts of a pilot table differ in length: {sorted(sizes)}")

    def __len__(self) -> int:
        return len(self.row_ids)

    def take(self, positions: np.ndarray) -> PilotTable:
        """The rows at `positions`, every part re-indexed from 0."""
        return PilotTable(
            row_ids=self.row_ids[positions],
            features=self.features.iloc[positions].reset_index(drop=True),
            label=self.label[positions],
            groups=self.groups.iloc[positions].reset_index(drop=True),
        )

    def without_features(self) -> PilotTable:
        """The same rows with no feature columns: what the host holds back from the model."""
        return PilotTable(
            row_ids=self.row_ids,
            features=self.features.iloc[:, :0],
            label=self.label,
            groups=self.groups,
        )
