"""Check what a container hands back before the host uses any of it.

`copy_out` reads the tar stream of /output member by member and writes only plain files and
folders itself (never `tarfile.extract`): links, devices, path tricks and oversized or too many
members are refused with `OutputRejected`, and a refused stream leaves nothing behind.
`read_predictions` and `read_explanations` then check the two files the host reads, with every
cost bounded before it is paid (file size, line length, field size, columns, rows, JSON depth):
whatever a container wrote, reading it ends in values or in `OutputRejected`, never in a crash.
A regular predictions file is parsed vectorised (:mod:`sandbox.runtime.predictions_file`);
anything else goes through the line-by-line reader, whose refusals name the line and the rule.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import OutputRejected
from sandbox.runtime.base import OutputLimits
from sandbox.runtime.predictions_file import row_order, split_regular, string_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Explanations",
    "FeatureImportance",
    "copy_out",
    "read_explanations",
    "read_predictions",
]

MAX_PREDICTIONS_BYTES = 256 * 1024 * 1024
MAX_EXPLANATIONS_BYTES = 1024 * 1024
#: predictions.csv: one physical line, one field, one column name (row ids, 0/1 and
#: probabilities are a few dozen characters; anything far longer is not a prediction).
MAX_LINE_CHARS = 16 * 1024
MAX_FIELD_CHARS = 1024
MAX_COLUMN_CHARS = 64
#: Rows read beyond the score set before giving up (enough to name a few unexpected ids).
EXTRA_ROWS = 1000
MAX_EXPLAINED_FEATURES = 10_000
_SHOWN_CHARS = 80
_MAX_NAME_CHARS = 1024
_CHUNK = 1024 * 1024


class _ChunkReader(io.RawIOBase):
    """A file-like view of an iterable of byte chunks (what `get_archive` yields)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def copy_out(
    tar_chunks: Iterable[bytes],
    dest: Path,
    limits: OutputLimits,
    *,
    root: str | None = None,
) -> dict[str, str]:
    """Copy the plain files of a tar stream into `dest`; returns {relative path: "sha256:hex"}.

    `root` is the stream's top folder (e.g. "output" for an archive of /output); every member
    must lie inside it and is written relative to it.
    """
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=dest))
    try:
        hashes = _unpack(tar_chunks, staging, limits, root)
        for entry in staging.iterdir():
            if (dest / entry.name).exists():
                raise OutputRejected(f"output member {entry.name!r}: already present in {dest}")
        for entry in staging.iterdir():
            entry.rename(dest / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dict(sorted(hashes.items()))


def _unpack(
    tar_chunks: Iterable[bytes], staging: Path, limits: OutputLimits, root: str | None
) -> dict[str, str]:
    hashes: dict[str, str] = {}
    seen: dict[PurePosixPath, bool] = {}  # path -> is a folder
    members = 0
    total = 0
    stream = io.BufferedReader(_ChunkReader(tar_chunks), buffer_size=_CHUNK)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                members += 1
                if members > limits.max_files:
                    _reject(member.name, f"more than {limits.max_files} members")
                relative = _relative_name(member.name, root)
                _check_type(member)
                if relative is None:  # the root folder itself
                    continue
                if relative in seen:
                    _reject(member.name, "duplicate member")
                for parent in relative.parents:
                    if parent != PurePosixPath(".") and seen.get(parent) is False:
                        _reject(member.name, f"its parent {parent} is a file")
                target = staging.joinpath(*relative.parts)
                if member.isdir():
                    seen[relative] = True
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    continue
                if member.size > limits.max_file_bytes:
                    _reject(
                        member.name,
                        f"{member.size} bytes, over the {limits.max_file_bytes} per-file cap",
                    )
                total += member.size
                if total > limits.max_total_bytes:
                    _reject(member.name, f"total output over the {limits.max_total_bytes} byte cap")
                seen[relative] = False
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    _reject(member.name, "unreadable file member")
                hashes[relative.as_posix()] = _write(source, target, member.size)
    except tarfile.TarError as exc:
        raise OutputRejected(f"output archive: not a valid tar stream ({exc})") from exc
    for directory, folders, _files in os.walk(staging):
        for folder in folders:
            os.chmod(os.path.join(directory, folder), 0o700)  # listable by the owner alone
    return hashes


def _relative_name(name: str, root: str | None) -> PurePosixPath | None:
    if not name or len(name) > _MAX_NAME_CHARS:
        _reject(name, "empty or over-long name")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        _reject(name, "control character (or NUL) in the name")
    # tarfile decodes bytes that are not UTF-8 as lone surrogates: such a name could not be
    # written to the trail, the reports or MLflow.
    if any("\ud800" <= char <= "\udfff" for char in name):
        _reject(name, "the name is not valid UTF-8")
    if name.startswith("/"):
        _reject(name, "absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        _reject(name, "'..' path component")
    if root is not None:
        if not parts or parts[0] != root:
            _reject(name, f"outside the archive's top folder {root!r}")
        parts = parts[1:]
    return PurePosixPath(*parts) if parts else None


def _check_type(member: tarfile.TarInfo) -> None:
    if member.isreg() or member.isdir():
        return
    kind = (
        "symbolic link"
        if member.issym()
        else "hard link"
        if member.islnk()
        else "device"
        if member.ischr() or member.isblk()
        else "fifo"
        if member.isfifo()
        else f"member type {member.type!r}"
    )
    _reject(member.name, f"{kind} not allowed: only regular files and folders")


def _write(source: IO[bytes], target: Path, size: int) -> str:
    digest = hashlib.sha256()
    written = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, 0o644)
    with os.fdopen(descriptor, "wb") as sink:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > size:
                _reject(target.name, "more bytes than its header declares")
            digest.update(chunk)
            sink.write(chunk)
    os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)  # the host reads it as its owner; no one else
    return f"sha256:{digest.hexdigest()}"


def _reject(name: str, rule: str) -> NoReturn:
    raise OutputRejected(f"output member {_shown(name)}: {rule}")


def _shown(value: object) -> str:
    """`value` as a short, printable quotation for an error message (never its full size)."""
    text = ascii(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


# --- the files the host reads ------------------------------------------------------------


def read_predictions(
    path: Path,
    *,
    expected_row_ids: Sequence[object],
    task: str = "binary_classification",
    max_bytes: int = MAX_PREDICTIONS_BYTES,
) -> pd.DataFrame:
    """Read and check predictions.csv; rows come back in the order of `expected_row_ids`.

    The columns are the task type's prediction schema (binary: `row_id`, `prediction` 0/1,
    optional `score` in [0, 1]); no other column, every expected row id exactly once.
    """
    import numpy as np
    import pandas as pd

    from sandbox.tasks import get_task

    schema = get_task(task)
    if not pd.Index(np.asarray(expected_row_ids)).is_unique:
        raise ValueError("expected_row_ids holds duplicates")
    _check_size(path, max_bytes)
    rows = len(expected_row_ids)
    columns, frame = _read_table(
        path, allowed=schema.predictions.allowed, max_rows=rows, max_bytes=max_bytes
    )
    for required in schema.predictions.required:
        if required not in columns:
            raise OutputRejected(f"{path.name}: missing column {required!r}")
    order = row_order(frame["row_id"], expected_row_ids)
    if order is None:
        _check_row_ids(frame["row_id"], {str(i) for i in expected_row_ids}, path.name)
    try:
        result = schema.parse_predictions(frame, source=path.name)
    except (ValueError, TypeError, OverflowError) as exc:  # a value pandas cannot convert
        raise OutputRejected(f"{path.name}: unreadable values ({_shown(str(exc))})") from exc
    if order is not None and len(result) == len(frame) and result["row_id"].equals(frame["row_id"]):
        # The rows as `loc[expected]` orders them below, by position instead of by label.
        ordered = result.iloc[order].reset_index(drop=True)
        return ordered[["row_id", *(c for c in ordered.columns if c != "row_id")]]
    return result.set_index("row_id").loc[[str(i) for i in expected_row_ids]].reset_index()


def _check_row_ids(row_ids: pd.Series, expected: set[str], name: str) -> None:
    """Every expected row id exactly once and no other; the refusal names a few of each."""
    duplicated = row_ids[row_ids.duplicated()].unique().tolist()
    if duplicated:
        raise OutputRejected(f"{name}: duplicate row_id values, e.g. {_shown(duplicated[:5])}")
    got = set(row_ids)
    unexpected = sorted(got - expected)
    missing = sorted(expected - got)
    if unexpected or missing:
        raise OutputRejected(
            f"{name}: row ids differ from the score set: {len(missing)} missing "
            f"(e.g. {_shown(missing[:5])}), {len(unexpected)} unexpected "
            f"(e.g. {_shown(unexpected[:5])})"
        )


def _read_table(
    path: Path, *, allowed: Sequence[str], max_rows: int, max_bytes: int
) -> tuple[list[str], pd.DataFrame]:
    """The header and the rows as text columns: vectorised when the file is regular.

    Anything `split_regular` or `string_frame` cannot vouch for is read by `_read_csv`, the
    reference, which names the line and the rule of the first thing wrong.
    """
    limit = max_rows + EXTRA_ROWS
    with path.open("rb") as handle:  # the size was checked; a file grown since is read below
        data = handle.read(max_bytes + 1)
    # A line within the field cap holds no field over it and is within the line cap.
    regular = split_regular(data, max_line_bytes=MAX_FIELD_CHARS, max_rows=limit)
    if regular is not None and len(data) <= max_bytes:
        columns = _check_header(regular.header, path.name, allowed)
        frame = string_frame(data, regular, columns)
        if frame is not None:
            return columns, frame
    del data
    columns, rows = _read_csv(path, allowed=allowed, max_rows=max_rows)
    return columns, _frame(rows, columns)


def _read_csv(
    path: Path, *, allowed: Sequence[str], max_rows: int
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a predictions CSV, read with every size bounded as it goes."""
    limit = max_rows + EXTRA_ROWS
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(_bounded_lines(handle, path.name), strict=True)
            columns = _check_header(next(reader, None), path.name, allowed)
            rows: list[list[str]] = []
            for row in reader:
                if not row:
                    continue  # a blank line, as pandas reads it
                if len(row) != len(columns):
                    raise OutputRejected(
                        f"{path.name}: line {reader.line_num}: {len(row)} fields, "
                        f"the header has {len(columns)}"
                    )
                if any(len(field) > MAX_FIELD_CHARS for field in row):
                    raise OutputRejected(
                        f"{path.name}: line {reader.line_num}: a field over {MAX_FIELD_CHARS} "
                        "characters"
                    )
                rows.append(row)
                if len(rows) > limit:
                    raise OutputRejected(
                        f"{path.name}: more than {limit} rows; the score set has {max_rows}"
                    )
    except UnicodeDecodeError as exc:
        raise OutputRejected(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    except csv.Error as exc:  # malformed quoting, a quoted field over the csv module's limit
        raise OutputRejected(f"{path.name}: malformed CSV ({_shown(str(exc))})") from exc
    return columns, rows


def _bounded_lines(handle: IO[str], name: str) -> Iterator[str]:
    """The file's lines, refusing any longer than MAX_LINE_CHARS before reading it whole."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise OutputRejected(f"{name}: line {number} is over {MAX_LINE_CHARS} characters")
        yield line


def _check_header(header: list[str] | None, name: str, allowed: Sequence[str]) -> list[str]:
    """The column names, checked against the task's prediction schema."""
    if not header:
        raise OutputRejected(f"{name}: empty: no header row")
    if len(header) > len(allowed) or any(len(c) > MAX_COLUMN_CHARS for c in header):
        long = [c for c in header if len(c) > MAX_COLUMN_CHARS]
        shown = f"{len(long)} over {MAX_COLUMN_CHARS} characters" if long else _shown(header)
        raise OutputRejected(f"{name}: unexpected columns ({shown}); allowed: {list(allowed)}")
    # Checked here: pandas would rename a repeated column ("prediction.1").
    if len(set(header)) != len(header):
        raise OutputRejected(f"{name}: duplicate column names {_shown(header)}")
    extra = [c for c in header if c not in allowed]
    if extra:
        raise OutputRejected(
            f"{name}: unexpected columns {_shown(extra)}; allowed: {list(allowed)}"
        )
    return header


def _frame(rows: list[list[str]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd  # imported here: the CLI starts without it

    return pd.DataFrame(rows, columns=columns, dtype=str)


class FeatureImportance(BaseModel):
    """One feature's importance as the container reported it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    feature: str = Field(min_length=1, max_length=256)
    importance_mean: float
    importance_std: float = Field(ge=0.0)


class Explanations(BaseModel):
    """explanations.json: a method and per-feature importances."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    method: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    scoring: str | None = Field(default=None, max_length=64)
    n_repeats: int | None = Field(default=None, ge=1)
    rows: int | None = Field(default=None, ge=0)
    features: list[FeatureImportance] = Field(max_length=MAX_EXPLAINED_FEATURES)
    #: Why no importance was measured (no labelled rows, a model scorers cannot call).
    skipped: str | None = Field(default=None, max_length=500)


def read_explanations(
    path: Path, *, features: Sequence[str], max_bytes: int = MAX_EXPLANATIONS_BYTES
) -> Explanations:
    """Read and check explanations.json: its schema, known feature names, finite numbers."""
    _check_size(path, max_bytes)
    try:
        explanations = Explanations.model_validate_json(path.read_bytes())
    except ValidationError as exc:  # pydantic's parser also caps nesting depth and numbers
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise OutputRejected(f"{path.name}: {_shown(where)}: {_shown(first['msg'])}") from exc
    known = set(features)
    names = [item.feature for item in explanations.features]
    unknown = sorted(set(names) - known)
    if unknown:
        raise OutputRejected(f"{path.name}: unknown feature names {_shown(unknown[:5])}")
    if len(set(names)) != len(names):
        raise OutputRejected(f"{path.name}: a feature is listed more than once")
    if not all(math.isfinite(i.importance_mean) for i in explanations.features):
        raise OutputRejected(f"{path.name}: importances must be finite numbers")
    return explanations


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError as exc:
        raise OutputRejected(f"{path.name}: missing from the outputs") from exc
    if not stat.S_ISREG(info.st_mode):
        raise OutputRejected(f"{path.name}: not a regular file")
    if info.st_size > max_bytes:
        raise OutputRejected(f"{path.name}: {info.st_size} bytes, over the {max_bytes} byte cap")
