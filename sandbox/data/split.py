"""How the labelled rows are split into training and evaluation rows, on the host.

- `sources`: a source with role `evaluation` is the evaluation set; no split is made;
- `time`: `split.by` names a date column; rows before the cut-off train, the later rows are
  evaluated, as a model trained on the past is used on what comes next. With `fraction`, the
  cut-off is the date of the row at that share of the rows sorted by date, so all rows of
  one date fall on the same side;
- `group`: `split.group_by` keeps all rows of one household or building on one side;
  scikit-learn's `GroupShuffleSplit` (seeded) picks `evaluation_fraction` of the groups;
- `stratified` / `random`: the seeded `train_test_split` the sandbox has always made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sandbox.data.dataset import Split, split_rows
from sandbox.errors import DataError

if TYPE_CHECKING:
    from sandbox.data.dataset import PilotData
    from sandbox.manifest import PilotManifest

__all__ = ["Split", "group_split", "plan_split", "split_rows", "time_split"]


def plan_split(data: PilotData, manifest: PilotManifest) -> Split:
    """The training and evaluation rows, as the manifest's roles and `split` say."""
    cfg = manifest.data.split
    from sandbox.manifest import MANIFEST_NAME

    where = f"{MANIFEST_NAME}: data.split"
    if data.evaluation_rows is not None:
        evaluation = np.sort(data.evaluation_rows)
        train = np.setdiff1d(np.arange(len(data.table)), evaluation)
        return Split(train=train, evaluation=evaluation, method="sources")
    keys = data.split_keys if data.split_keys is not None else pd.DataFrame()
    if cfg.by is not None:
        return time_split(keys[cfg.by], cutoff=cfg.cutoff, fraction=cfg.fraction, where=where)
    if cfg.group_by is not None:
        return group_split(
            keys[cfg.group_by],
            evaluation_fraction=cfg.evaluation_fraction,
            seed=cfg.seed,
            where=where,
        )
    return split_rows(
        data.table.label,
        evaluation_fraction=cfg.evaluation_fraction,
        seed=cfg.seed,
        # a measured label (a regression's days or counts) has no classes to stratify on
        stratify=cfg.stratify and data.table.label.dtype.kind != "f",
    )


def _dates(values: pd.Series, where: str) -> pd.Series:
    column = values.name
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
    else:
        dates = pd.to_datetime(values.astype("string"), errors="coerce", format="ISO8601")
        bad = values.notna() & dates.isna()
        if bool(bad.any()):
            row = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(
                f"{where}.by: column {column!r} holds {values.iloc[row]!r} (labelled row "
                f"{row + 1}), not a date (YYYY-MM-DD); fix the value, or split another way"
            )
    if getattr(dates.dtype, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    if bool(dates.isna().any()):
        raise DataError(
            f"{where}.by: column {column!r} has no date in {int(dates.isna().sum())} labelled "
            "rows; a time-based split must place every row: fill in the dates or remove "
            "those rows"
        )
    return dates


def time_split(
    values: pd.Series, *, cutoff: Any = None, fraction: float | None = None, where: str = "split"
) -> Split:
    """Rows dated before the cut-off train; rows on or after it are evaluated."""
    dates = _dates(values, where)
    ordered = np.sort(dates.to_numpy())
    first, last = pd.Timestamp(ordered[0]), pd.Timestamp(ordered[-1])
    if cutoff is not None:
        boundary = pd.Timestamp(cutoff)
        field = f"cutoff {boundary.date()}"
    else:
        share = float(fraction if fraction is not None else 0.0)
        boundary = pd.Timestamp(ordered[min(int(len(ordered) * share), len(ordered) - 1)])
        field = f"fraction {share:g} (cut-off {boundary.date()})"
    before = (dates < boundary).to_numpy()
    span = f"the dates in {values.name!r} run from {first.date()} to {last.date()}"
    if not before.any():
        raise DataError(
            f"{where}.{field.split()[0]}: {field} leaves no training rows: {span}; pick a "
            "later cut-off (or a larger fraction)"
        )
    if before.all():
        raise DataError(
            f"{where}.{field.split()[0]}: {field} leaves no evaluation rows: {span}; pick a "
            "cut-off on or before the last date (or a smaller fraction)"
        )
    positions = np.arange(len(dates))
    return Split(
        train=positions[before],
        evaluation=positions[~before],
        method="time",
        cutoff=str(boundary.date()),
    )


def group_split(
    values: pd.Series, *, evaluation_fraction: float, seed: int, where: str = "split"
) -> Split:
    """A seeded split of whole groups: no group has rows on both sides."""
    from sandbox.data.shuffled import group_shuffle_split

    column = values.name
    if bool(values.isna().any()):
        raise DataError(
            f"{where}.group_by: column {column!r} is empty in {int(values.isna().sum())} "
            "labelled rows, which would belong to no group; fill it in or remove those rows"
        )
    codes, uniques = pd.factorize(values)
    try:
        train, evaluation = group_shuffle_split(codes, test_fraction=evaluation_fraction, seed=seed)
    except ValueError as exc:
        raise DataError(
            f"{where}.group_by: cannot split the {len(uniques)} groups of {column!r} "
            f"({exc}); use a column with more groups, or change evaluation_fraction"
        ) from None
    return Split(train=np.sort(train), evaluation=np.sort(evaluation), method="group")


def split_params(manifest: PilotManifest) -> dict[str, str]:
    """The declared split and roles as tracking params (method, date column, cut-off, groups)."""
    data = manifest.data
    cfg = data.split
    roles = [source.role for source in data.sources]
    if "evaluation" in roles:
        method = "sources"
    elif cfg.by is not None:
        method = "time"
    elif cfg.group_by is not None:
        method = "group"
    else:
        method = "stratified" if cfg.stratify else "random"
    declared = {
        "split.by": cfg.by,
        "split.cutoff": str(cfg.cutoff) if cfg.cutoff is not None else None,
        "split.fraction": f"{cfg.fraction:g}" if cfg.fraction is not None else None,
        "split.group_by": cfg.group_by,
        "data.id": data.id,
    }
    params = {"split.method": method, "data.roles": ",".join(roles)}
    return params | {name: value for name, value in declared.items() if value is not None}
