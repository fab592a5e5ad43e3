"""Split evaluation rows into groups by their sensitive attributes.

An evaluation looks at every attribute on its own, at pairs and at the full intersection
(:func:`sandbox.evaluation.result.attribute_sets`), so one attribute takes part in several
partitions. :class:`GroupCoder` factorises each attribute once and reuses its codes for every
set; at 10 million rows re-factorising a text column costs seconds per call. A categorical
column (what the coded readers give) is not factorised at all: its codes are taken as they
are and only renumbered to the categories present.

Groups are ordered as fairlearn's ``MetricFrame.by_group`` orders them (sorted values, the
first attribute varying slowest); combinations with no rows are left out, and rows whose value
is missing form a group of their own, :data:`MISSING`, after the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sandbox.errors import DataError

__all__ = ["MISSING", "Coarsening", "Codes", "GroupCoder", "Partition", "partition"]

#: Label given to rows whose sensitive attribute is missing (fairlearn refuses such rows; an
#: audit keeps them visible as their own group instead).
MISSING = "(missing)"

Codes = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Partition:
    """Rows split into groups: one code per row, and each group's attribute values."""

    attributes: tuple[str, ...]
    codes: Codes
    keys: tuple[tuple[str, ...], ...]
    # Per group, the index of its value in each attribute's labels: shape (groups, attributes).
    levels: Codes | None = None

    @property
    def n_groups(self) -> int:
        """Number of (non-empty) groups."""
        return len(self.keys)


@dataclass(frozen=True)
class Coarsening:
    """A partition's groups merged into those of fewer attributes: `group[g]` is the coarse
    group of fine group `g`; `keys` are the coarse groups, in partition order."""

    attributes: tuple[str, ...]
    group: Codes
    keys: tuple[tuple[str, ...], ...]


def _with_missing(codes: Codes, labels: list[str]) -> tuple[Codes, list[str]]:
    """Missing values (code -1) moved to a last group of their own, if there are any."""
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels = [*labels, MISSING]
    return codes, labels


def _categorical_codes(column: pd.Series) -> tuple[Codes, list[str]]:
    """The codes ``pd.factorize(sort=True)`` gives a categorical column, without hashing.

    Factorising a categorical keeps its categories' order and drops the unused ones, so the
    stored codes only need renumbering over the categories that occur.
    """
    raw = np.asarray(column.cat.codes, dtype=np.intp)
    categories = column.cat.categories
    # shifted by one so that missing (-1) counts in slot 0
    seen = np.bincount(raw + 1, minlength=len(categories) + 1)
    present = seen[1:] > 0
    labels = [str(c) for c in categories[present]]
    if not seen[0] and present.all():
        return raw, labels  # every category occurs and none is missing: codes as stored
    renumber = np.empty(len(categories) + 1, dtype=np.intp)
    renumber[0] = len(labels)  # the missing group, after the values
    renumber[1:] = np.cumsum(present) - 1
    codes = renumber[raw + 1]
    if seen[0]:
        labels.append(MISSING)
    return codes, labels


def _column_codes(column: pd.Series) -> tuple[Codes, list[str]]:
    """Integer code per row, and the sorted labels they stand for (missing values last)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return _categorical_codes(column)
    codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=True)
    return _with_missing(np.asarray(codes, dtype=np.intp), [str(u) for u in uniques])


class GroupCoder:
    """The group codes of one frame's attributes, each attribute factorised once."""

    def __init__(self, sensitive: pd.DataFrame) -> None:
        self._frame = sensitive
        self._columns: dict[str, tuple[Codes, list[str]]] = {}

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every column's name, in frame order (the default attribute set)."""
        return tuple(str(c) for c in self._frame.columns)

    def column(self, name: str) -> tuple[Codes, list[str]]:
        """One attribute's codes (read-only, shared) and labels, computed on first use."""
        if name not in self._columns:
            codes, labels = _column_codes(self._frame[name])
            codes.setflags(write=False)  # shared by every partition that uses it
            self._columns[name] = (codes, labels)
        return self._columns[name]

    def partition(self, attributes: Sequence[str] | None = None) -> Partition:
        """Split rows by the combined values of ``attributes`` (default: every column)."""
        names = tuple(attributes) if attributes is not None else self.attributes
        if not names:
            raise DataError("no sensitive attributes given: name at least one column to audit")
        unknown = [a for a in names if a not in self._frame.columns]
        if unknown:
            raise DataError(f"sensitive attributes {unknown} are not columns of the audit data")
        per_attribute = [self.column(a) for a in names]
        if len(per_attribute) == 1:
            # one attribute's codes are already dense and in group order
            codes, labels = per_attribute[0]
            keys = tuple((v,) for v in labels)
            levels = np.arange(len(labels), dtype=np.intp).reshape(-1, 1)
            return Partition(attributes=names, codes=codes, keys=keys, levels=levels)
        shape = tuple(len(labels) for _, labels in per_attribute)
        combined = np.ravel_multi_index(tuple(c for c, _ in per_attribute), shape)
        size = int(np.prod(shape))
        if size <= max(len(combined), 1 << 16):
            # the same as np.unique(..., return_inverse=True) in one pass instead of a sort
            present = np.bincount(combined, minlength=size) > 0
            observed = np.flatnonzero(present)
            codes = (np.cumsum(present) - 1)[combined]
        else:
            observed, codes = np.unique(combined, return_inverse=True)
        levels = np.stack(np.unravel_index(observed, shape), axis=1).astype(np.intp)
        return Partition(
            attributes=names,
            codes=codes.astype(np.intp, copy=False),
            keys=self._keys(names, levels),
            levels=levels,
        )

    def coarsen(self, fine: Partition, attributes: Sequence[str]) -> Coarsening:
        """Merge `fine`'s groups into the groups `partition(attributes)` would give, without
        touching the rows: the same groups, in the same order, for a subset of its attributes.

        Counts made once per fine group then add up to each coarser set's counts exactly.
        """
        names = tuple(attributes)
        if fine.levels is None or not set(names) <= set(fine.attributes):
            raise ValueError(f"cannot coarsen {fine.attributes} into {names}")
        columns = [fine.attributes.index(a) for a in names]
        shape = tuple(len(self.column(a)[1]) for a in names)
        sub = fine.levels[:, columns]
        combined = np.ravel_multi_index(tuple(sub.T), shape) if len(sub) else np.zeros(0, int)
        observed, group = np.unique(combined, return_inverse=True)
        levels = np.stack(np.unravel_index(observed, shape), axis=1).astype(np.intp)
        keys = self._keys(names, levels)
        return Coarsening(attributes=names, group=group.astype(np.intp).ravel(), keys=keys)

    def _keys(self, names: tuple[str, ...], levels: Codes) -> tuple[tuple[str, ...], ...]:
        """Each group's attribute values, from its level indices."""
        labels = [self.column(a)[1] for a in names]
        return tuple(tuple(labels[i][j] for i, j in enumerate(row)) for row in levels.tolist())


def partition(sensitive: pd.DataFrame, attributes: Sequence[str] | None = None) -> Partition:
    """Split rows by the combined values of ``attributes`` (default: every column).

    For several attribute sets of the same frame, use one :class:`GroupCoder` instead.
    """
    return GroupCoder(sensitive).partition(attributes)
