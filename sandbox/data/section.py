"""The manifest's `data` section: the sources and how to read them, the columns' roles, the split.

Pydantic models, published in the pilot manifest's JSON Schema (`sandbox schema pilot`) and
re-exported by `sandbox.manifest`. A source says how the city wrote its file: whether there is
a header row (and, if not, the column names), which markers mean a missing value, the encoding
and the column types. Left out, each keeps the sandbox's long-standing reading: a header row,
pandas' missing-value markers, UTF-8 and inferred types.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox.confinement import PilotPath, relative_path
from sandbox.data.reader import ColumnType, ReadOptions, TableFormat
from sandbox.errors import DataError

__all__ = ["DataSection", "DataSource", "Role", "SplitSection"]

#: train: labelled history; evaluation: labelled rows held out; score: current cases, no label.
Role = Literal["train", "evaluation", "score"]

_COLUMN = r"^[^\x00-\x1f]{1,200}$"
#: How a table is read: meaningless for a JSON Lines file.
_TABLE_ONLY = ("header", "columns", "missing", "encoding", "types")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _column_names(value: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for column in value:
        if not re.match(_COLUMN, column):
            raise ValueError(f"column name {column!r} is empty or has control characters")
        if column in seen:
            raise ValueError(f"column {column!r} is listed twice")
        seen.add(column)
    return value


class DataSource(_Section):
    """One data file inside the pilot folder, and how to read it."""

    path: Annotated[str, PilotPath()] = Field(
        description="Relative to the pilot folder; CSV or Parquet (JSON Lines for an "
        "assistant's evaluation set)."
    )
    format: Literal["csv", "parquet", "jsonl"] | None = Field(
        default=None,
        description="Inferred from the file suffix when omitted (.parquet, .jsonl, else CSV). "
        "jsonl: an assistant's evaluation set, in the published references schema.",
    )
    header: bool = Field(
        default=True,
        description="CSV only: whether the first row holds the column names. With false, "
        "name every column, in order, in `columns`.",
    )
    columns: tuple[str, ...] = Field(
        default=(),
        description="CSV without a header row: the name of every column, in file order.",
    )
    missing: tuple[str, ...] | None = Field(
        default=None,
        description="The markers that mean a missing value, e.g. ['', '?', 'NA'], matched "
        "after surrounding spaces are stripped; they are counted as missing in the datasheet. "
        "Omitted: empty cells and pandas' markers (NA, N/A, NaN, null, None, ...).",
    )
    encoding: str = Field(
        default="utf-8",
        description="CSV only: the text encoding, e.g. utf-8, utf-8-sig, latin-1, cp1252.",
    )
    types: dict[str, ColumnType] = Field(
        default_factory=dict,
        description="Column types: string (kept as written, e.g. ZIP code 02134), integer, "
        "float, category or date (YYYY-MM-DD). Undeclared columns are inferred.",
    )
    role: Role = Field(
        default="train",
        description="train: labelled history, split into training and evaluation rows unless "
        "an `evaluation` source is given; evaluation: labelled rows held out for evaluation "
        "(no split is made); score: current cases without a label, scored by the model and "
        "returned to the city in scored.csv, never evaluated.",
    )

    @field_validator("path")
    @classmethod
    def _inside_pilot(cls, value: str) -> str:
        return relative_path(value)  # links are followed when the manifest is loaded

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _column_names(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use e.g. utf-8 or latin-1") from None
        return value

    @model_validator(mode="after")
    def _header_or_names(self) -> DataSource:
        if self.resolved_format == "jsonl":
            given = [f for f in _TABLE_ONLY if f in self.model_fields_set]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: only for CSV and Parquet files; a JSON Lines file "
                    "holds one JSON object per line, in the published references schema"
                )
            return self
        csv_only = [f for f in ("header", "columns", "encoding") if f in self.model_fields_set]
        if self.resolved_format == "parquet" and csv_only:
            raise ValueError(
                f"{', '.join(csv_only)}: only for CSV files; a Parquet file has its own "
                "column names and types"
            )
        if not self.header and not self.columns:
            raise ValueError("header: false needs `columns`: the name of every column, in order")
        if self.header and self.columns:
            raise ValueError("`columns` names a file without a header row; set header: false")
        return self

    @property
    def resolved_format(self) -> Literal["csv", "parquet", "jsonl"]:
        """The declared format, or the one the suffix implies."""
        if self.format is not None:
            return self.format
        suffix = PurePosixPath(self.path).suffix.lower()
        if suffix in (".parquet", ".jsonl"):
            return "parquet" if suffix == ".parquet" else "jsonl"
        return "csv"

    @property
    def table_format(self) -> TableFormat:
        """The format of a CSV or Parquet source; DataError for JSON Lines, read elsewhere."""
        fmt = self.resolved_format
        if fmt == "jsonl":
            raise DataError(
                f"{self.path}: JSON Lines is an assistant's evaluation set, read by "
                "sandbox.assistant.jsonl, not as a table"
            )
        return fmt

    def read_options(self, index: int) -> ReadOptions:
        """How the reader reads this source (the `index`-th of `data.sources`)."""
        return ReadOptions(
            header=self.header,
            names=self.columns,
            missing=self.missing,
            encoding=self.encoding,
            types=dict(self.types),
            where=f"data.sources[{index}]",
        )


class SplitSection(_Section):
    """How the host splits the labelled rows into training and evaluation sets.

    Seeded random (stratified on the label by default); time-based with `by`; group-aware
    with `group_by`. Checked in `sandbox.data.split`.
    """

    evaluation_fraction: float = Field(
        default=0.3,
        gt=0.0,
        lt=1.0,
        description="Share of the labelled rows (with group_by: of the groups) evaluated.",
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    stratify: bool = Field(
        default=True, description="Random split only: keep the label's shares on both sides."
    )
    by: str | None = Field(
        default=None,
        pattern=_COLUMN,
        description="Time-based split: a date column. Rows before the cut-off train the model, "
        "later rows are evaluated, as in a real deployment. Needs `cutoff` or `fraction`.",
    )
    cutoff: date | None = Field(
        default=None,
        description="With `by`: the first evaluated date (YYYY-MM-DD); earlier rows train.",
    )
    fraction: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="With `by`: the share of rows, earliest first, to train on; rows of the "
        "cut-off date and later are evaluated, so one date never straddles the split.",
    )
    date_feature: bool = Field(
        default=False,
        description="With `by`: the date column is also a model feature, on purpose.",
    )
    group_by: str | None = Field(
        default=None,
        pattern=_COLUMN,
        description="Group-aware split: all rows with one value of this column (a household, a "
        "building) fall on the same side; a seeded share of the groups is evaluated.",
    )

    @model_validator(mode="after")
    def _one_method(self) -> SplitSection:
        from sandbox.data.coherence import check_split_section

        check_split_section(self)
        return self


class DataSection(_Section):
    """Which columns exist and which of them may cross the container wall."""

    sources: tuple[DataSource, ...] = Field(min_length=1)
    label: str = Field(pattern=_COLUMN)
    features: tuple[str, ...] = Field(min_length=1, description="The only columns the model sees.")
    sensitive: tuple[str, ...] = Field(
        default=(), description="Used only for auditing; never sent into the container."
    )
    pii: tuple[str, ...] = Field(
        default=(), description="Personal data; never sent into the container."
    )
    proxies: tuple[str, ...] = Field(
        default=(), description="Columns known to stand in for a sensitive attribute."
    )
    split: SplitSection = SplitSection()
    id: str | None = Field(
        default=None,
        pattern=_COLUMN,
        description="A column of the score sources naming each case (e.g. a case number) in "
        "scored.csv; without it, cases are named by file and data row number.",
    )

    @field_validator("features", "sensitive", "pii", "proxies")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _column_names(value)

    @model_validator(mode="after")
    def _label_is_not_an_input(self) -> DataSection:
        if self.label in self.features:
            raise ValueError(f"the label {self.label!r} cannot also be a model feature")
        if "row_id" in self.features:
            raise ValueError("'row_id' is reserved for the sandbox; rename that column")
        # Roles, split and id are checked with the task type (`sandbox.manifest`): an
        # assistant's evaluation set has neither a train source nor a split.
        return self

    @property
    def reads_jsonl(self) -> bool:
        """Whether a source is JSON Lines (an assistant's evaluation set)."""
        return any(source.resolved_format == "jsonl" for source in self.sources)

    def feature_types(self) -> dict[str, ColumnType]:
        """The declared types of the model features (what the harness must read them as)."""
        declared: dict[str, ColumnType] = {}
        for source in self.sources:
            declared |= source.types
        return {name: declared[name] for name in self.features if name in declared}
