"""Host-side attacks on parsing: a hostile `pilot.yaml` is refused before it costs anything.

Each attack runs the real pipeline against in-memory edges (no container is ever needed: the
manifest never gets that far) and checks the three promises: a clear error, a `run.rejected`
record, and a trail that still verifies.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import ManifestError
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import RunServices
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from sandbox.yaml_reader import MAX_DEPTH
from tests.pilots import write_pilot

SECONDS = 20.0  # every refusal is immediate; a hang or a full read takes far longer


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")
    return RunServices(
        runtime=FakeRuntime(lambda spec: {}),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def _refused(pilot: Path, services: RunServices, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(ManifestError, match=match):
        run_pilot(pilot, services)
    assert time.monotonic() - started < SECONDS
    kinds = [r.kind for r in iter_records(services.trail.path)]
    assert kinds == ["run.rejected"]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


def _replace_manifest(pilot: Path, text: str) -> None:
    (pilot / "pilot.yaml").write_text(text, encoding="utf-8")


def test_manifest_linked_to_dev_zero_is_refused_unread(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "pilot.yaml").unlink()
    os.symlink("/dev/zero", pilot / "pilot.yaml")
    _refused(pilot, services, "symbolic link")


def test_manifest_as_a_fifo_does_not_hang(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "pilot.yaml").unlink()
    os.mkfifo(pilot / "pilot.yaml")
    _refused(pilot, services, "not a regular file")


def test_large_sparse_manifest_is_refused_by_its_size(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    with (pilot / "pilot.yaml").open("r+b") as handle:
        handle.truncate(4 * 1024**3)  # 4 GiB on paper, nothing on disk
    _refused(pilot, services, "larger than the")


def test_alias_bomb_under_model_params_is_refused(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    text = (pilot / "pilot.yaml").read_text(encoding="utf-8")
    levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    bomb = "bomb_levels:\n" + "\n".join(f"  {line}" for line in levels) + "\n"
    _replace_manifest(pilot, bomb + text)
    _refused(pilot, services, "aliases")


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    _replace_manifest(pilot, "x: " + "[" * 20_000 + "]" * 20_000 + "\n")
    _refused(pilot, services, f"deeper than {MAX_DEPTH}")


def test_self_referencing_alias_is_refused(tmp_path: Path, services) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    _replace_manifest(pilot, "x: &loop [1, *loop]\n")
    _refused(pilot, services, "refers to the value that contains it")


def test_one_group_per_row_keeps_the_proxy_check_linear() -> None:
    import numpy as np
    import pandas as pd

    from sandbox.policies.rules.proxy import _group_codes, proxy_auc

    rows = 6_000  # one group per row took minutes when every group was its own column
    attribute = pd.Series([f"resident-{i}" for i in range(rows)])
    codes, groups = _group_codes(attribute, 30)
    assert groups == 30 and codes.max() == 29 and len(codes) == rows
    feature = pd.Series(np.random.default_rng(0).normal(size=rows))
    assert proxy_auc(feature, attribute, folds=5, bins=16, seed=0, max_groups=30) is not None


def test_sparse_csv_of_nul_bytes_is_refused_before_pandas(tmp_path: Path) -> None:
    from sandbox.data.reader import read_table
    from sandbox.errors import DataError

    path = tmp_path / "data.csv"
    with path.open("wb") as handle:
        handle.write(b"a,b\n1,2\n")
        handle.truncate(500 * 1024**2)  # 500 MB of NUL bytes on paper, nothing on disk
    with pytest.raises(DataError, match="NUL bytes"):
        read_table(path)


def test_one_endless_line_is_refused_before_pandas(tmp_path: Path) -> None:
    from sandbox.data.limits import check_csv_shape
    from sandbox.errors import DataError

    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" + b"x" * 3_000_000)
    with pytest.raises(DataError, match="line 2 is longer than"):
        check_csv_shape(path)


def test_too_many_csv_rows_are_refused_while_counting(tmp_path: Path) -> None:
    from sandbox.data.limits import check_csv_shape
    from sandbox.errors import DataError

    path = tmp_path / "data.csv"
    path.write_bytes(b"a\n" + b"1\n" * 1_001)
    assert check_csv_shape(path, max_rows=2_000) == 1_002
    with pytest.raises(DataError, match="more than 1,000 rows"):
        check_csv_shape(path, max_rows=1_000)


def test_parquet_that_decompresses_to_many_rows_is_refused_from_its_footer(
    tmp_path: Path,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sandbox.data.limits import check_parquet_shape
    from sandbox.errors import DataError

    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x": pa.repeat(0, 2_000_000)}), path, compression="zstd")
    assert path.stat().st_size < 100_000  # small on disk
    with pytest.raises(DataError, match="2,000,000 rows, more than 1,000,000"):
        check_parquet_shape(path, max_rows=1_000_000)
    with pytest.raises(DataError, match="more than 1,000,000 values"):
        check_parquet_shape(path, max_cells=1_000_000)
