"""The hash-chained trail: appends verify, and any edit, deletion, reordering or cut shows."""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.audit.events import RunFailed
from sandbox.audit.signing import Signer
from sandbox.audit.store import FileTrailStore
from sandbox.audit.trail import (
    GENESIS_HASH,
    AuditTrail,
    TrailRecord,
    iter_records,
    records_for_run,
    verify_trail,
)
from sandbox.errors import AuditError

SIGNER = Signer.generate()
VERIFIER = SIGNER.verifier()

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=12), json_values, max_size=5)


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per hypothesis example (function-scoped fixtures are shared)."""
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def build_trail(path: Path, count: int) -> list[TrailRecord]:
    trail = AuditTrail(path, SIGNER)
    kinds = ["run.submitted", "run.started", "run.finished", "run.failed", "run.blocked"]
    return [
        trail.append(
            kinds[i % len(kinds)],
            actor=f"user{i % 2}",
            run_id=f"run-{i // 2}" if i % 3 else None,
            payload={"i": i, "manifest": "sha256:" + hashlib.sha256(bytes([i])).hexdigest()},
        )
        for i in range(count)
    ]


# One reference trail for the tampering properties; each example edits a copy of its bytes.
with tempfile.TemporaryDirectory() as _folder:
    _REFERENCE = build_trail(Path(_folder) / "trail.jsonl", 5)
    REFERENCE_BYTES = (Path(_folder) / "trail.jsonl").read_bytes()
REFERENCE_LINES = REFERENCE_BYTES.splitlines(keepends=True)
REFERENCE_HEAD = _REFERENCE[-1].hash


def verify_bytes(data: bytes, *, anchor: str | None = None) -> Any:
    with scratch() as folder:
        path = folder / "trail.jsonl"
        path.write_bytes(data)
        return verify_trail(path, VERIFIER, anchor=anchor)


# --- appending and reading ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(payloads, min_size=1, max_size=6))
def test_append_then_verify_holds_for_any_payloads(batch: list[dict[str, Any]]) -> None:
    with scratch() as folder:
        path = folder / "trail.jsonl"
        trail = AuditTrail(path, SIGNER)
        written = [trail.append("run.finished", actor="a", payload=p) for p in batch]

        result = verify_trail(path, VERIFIER)

        assert result.ok, result.reason
        assert result.records_checked == len(batch)
        assert result.head_hash == written[-1].hash
        assert list(iter_records(path)) == written
        for record, payload in zip(written, batch, strict=True):
            # what is stored is the payload's JSON value (1.0 reads back as 1, tuples as lists)
            assert rfc8785.dumps(record.payload) == rfc8785.dumps(payload)


def test_record_format_is_canonical_json_chained_by_hash(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    moments = iter([datetime(2024, 5, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=s) for s in (0, 1)])
    trail = AuditTrail(path, SIGNER, clock=lambda: next(moments))
    first = trail.append("run.submitted", actor="alice", run_id="r-1", payload={"b": 1, "a": 2.5})
    second = trail.append("run.started", actor="alice", run_id="r-1", payload={})

    lines = path.read_bytes().split(b"\n")
    assert lines[2] == b"" and len(lines) == 3
    obj = json.loads(lines[0])
    assert list(obj) == sorted(obj)  # RFC 8785 orders keys
    assert obj == {
        "seq": 0,
        "kind": "run.submitted",
        "time": "2024-05-01T12:00:00.000000Z",
        "actor": "alice",
        "run_id": "r-1",
        "payload": {"a": 2.5, "b": 1},
        "prev": GENESIS_HASH,
        "key_id": SIGNER.key_id,
        "sig": first.sig,
    }
    assert lines[0] == rfc8785.dumps(obj)
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    assert VERIFIER.verify(rfc8785.dumps(unsigned), obj["sig"])
    assert first.hash == "sha256:" + hashlib.sha256(lines[0]).hexdigest()
    assert second.prev == first.hash and second.seq == 1
    assert second.time == "2024-05-01T12:00:01.000000Z"


def test_records_for_run_and_iter_records(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    written = build_trail(path, 9)

    assert [r.seq for r in records_for_run(path, "run-1")] == [
        r.seq for r in written if r.run_id == "run-1"
    ]
    assert records_for_run(path, "nope") == []
    assert list(iter_records(tmp_path / "absent.jsonl")) == []


def test_iter_records_skips_a_cut_short_last_line_but_names_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    written = build_trail(path, 3)
    with path.open("ab") as handle:
        handle.write(b'{"seq":3,"ki')
    assert list(iter_records(path)) == written

    path.write_bytes(REFERENCE_LINES[0] + b"garbage\n")
    with pytest.raises(AuditError, match="line 2"):
        list(iter_records(path))


def test_empty_trail_verifies_with_the_genesis_head(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    path.touch()
    result = verify_trail(path, VERIFIER)
    assert result.ok and result.records_checked == 0 and result.head_hash == GENESIS_HASH


def test_missing_trail_is_an_audit_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot read"):
        verify_trail(tmp_path / "absent.jsonl", VERIFIER)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"x": math.nan}, r"payload\.x: nan is not a JSON number"),
        ({"x": [1.0, math.inf]}, r"payload\.x\[1\]: inf"),
        ({"x": {"y": -math.inf}}, r"payload\.x\.y: -inf"),
        ({"x": b"bytes"}, r"payload\.x: bytes is not JSON"),
        ({"x": {1: "a"}}, r"payload\.x: key 1 is not a string"),
        ({"x": 2**64}, r"outside the exact JSON range"),
    ],
)
def test_payload_that_is_not_json_is_refused(
    tmp_path: Path, payload: dict[str, Any], message: str
) -> None:
    trail = AuditTrail(tmp_path / "trail.jsonl", SIGNER)
    with pytest.raises(AuditError, match=message):
        trail.append("run.finished", actor="a", payload=payload)
    assert not (tmp_path / "trail.jsonl").exists()


@pytest.mark.parametrize("kind", ["", "finished", "Run.Finished", "run finished", "run."])
def test_kind_must_be_a_dotted_name(tmp_path: Path, kind: str) -> None:
    with pytest.raises(AuditError, match="dotted lower-case"):
        AuditTrail(tmp_path / "t.jsonl", SIGNER).append(kind, actor="a", payload={})


def test_actor_is_required(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="actor"):
        AuditTrail(tmp_path / "t.jsonl", SIGNER).append("run.started", actor="", payload={})


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "t.jsonl", SIGNER, clock=lambda: datetime(2024, 1, 1))
    with pytest.raises(AuditError, match="timezone-aware"):
        trail.append("run.started", actor="a", payload={})


@pytest.mark.parametrize("fragment", [b"", b'{"seq":2,"ki'])
def test_append_refuses_to_chain_onto_an_unreadable_last_record(
    tmp_path: Path, fragment: bytes
) -> None:
    path = tmp_path / "trail.jsonl"
    content = REFERENCE_LINES[0] + b"{not json}\n" + fragment
    path.write_bytes(content)
    with pytest.raises(AuditError, match="line 2: the last record cannot be read"):
        AuditTrail(path, SIGNER).append("run.started", actor="a", payload={})
    assert path.read_bytes() == content  # nothing moved or written on a broken trail


def test_threads_sharing_one_trail_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = AuditTrail(path, SIGNER)

    def write(writer: int) -> None:
        for i in range(50):
            trail.append("run.started", actor=f"t{writer}", payload={"i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    result = verify_trail(path, VERIFIER)
    assert result.ok and result.records_checked == 200
    assert (tmp_path / "trail.jsonl.lock").exists()


def test_a_long_last_record_is_found_by_reading_backwards(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    trail = AuditTrail(path, SIGNER)
    trail.append("run.started", actor="a", payload={"blob": "x" * 200_000})
    trail.append("run.finished", actor="a", payload={"blob": "y" * 150_000})
    with path.open("ab") as handle:
        handle.write(b"z" * 100_000)  # a cut-short line longer than one read-back chunk
    record = trail.append("run.finished", actor="a", payload={})

    assert record.seq == 3
    assert verify_trail(path, VERIFIER).ok


# --- tampering is detected ---------------------------------------------------------------


def test_reference_trail_verifies() -> None:
    result = verify_bytes(REFERENCE_BYTES, anchor=REFERENCE_HEAD)
    assert result.ok and result.records_checked == len(REFERENCE_LINES)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_flipping_any_byte_anywhere_is_detected(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(REFERENCE_BYTES) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(REFERENCE_BYTES)
    tampered[index] ^= mask

    result = verify_bytes(bytes(tampered))

    assert not result.ok
    line = REFERENCE_BYTES[:index].count(b"\n") + 1
    assert result.first_bad_line is not None and result.first_bad_line <= line + 1
    assert result.records_checked < len(REFERENCE_LINES)


def test_flipping_every_byte_of_one_line_is_detected() -> None:
    """Exhaustive over positions of the last line (not covered by a later hash), one mask."""
    start = len(REFERENCE_BYTES) - len(REFERENCE_LINES[-1])
    for index in range(start, len(REFERENCE_BYTES)):
        tampered = bytearray(REFERENCE_BYTES)
        tampered[index] ^= 0x01
        assert not verify_bytes(bytes(tampered)).ok, index


@settings(deadline=None)
@given(st.integers(0, len(REFERENCE_LINES) - 1))
def test_deleting_any_line_is_detected(index: int) -> None:
    lines = REFERENCE_LINES[:index] + REFERENCE_LINES[index + 1 :]

    result = verify_bytes(b"".join(lines), anchor=REFERENCE_HEAD)

    assert not result.ok
    if index < len(REFERENCE_LINES) - 1:
        # inside the chain: the seq gap shows on its own, no anchor needed
        assert not verify_bytes(b"".join(lines)).ok
        assert result.first_bad_line == index + 1
    else:
        # the last record: only a head known from elsewhere can show it
        assert result.head_hash != REFERENCE_HEAD
        assert result.reason is not None and "anchor" in result.reason


@settings(deadline=None)
@given(st.data())
def test_swapping_any_two_lines_is_detected(data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(REFERENCE_LINES) - 2))
    j = data.draw(st.integers(i + 1, len(REFERENCE_LINES) - 1))
    lines = list(REFERENCE_LINES)
    lines[i], lines[j] = lines[j], lines[i]

    result = verify_bytes(b"".join(lines))

    assert not result.ok
    assert result.first_bad_line == i + 1


@settings(deadline=None)
@given(st.data())
def test_duplicating_any_line_is_detected(data: st.DataObject) -> None:
    source = data.draw(st.integers(0, len(REFERENCE_LINES) - 1))
    target = data.draw(st.integers(0, len(REFERENCE_LINES)))
    lines = list(REFERENCE_LINES)
    lines.insert(target, REFERENCE_LINES[source])

    assert not verify_bytes(b"".join(lines)).ok


def test_wrong_key_is_reported_on_the_first_line() -> None:
    with scratch() as folder:
        path = folder / "trail.jsonl"
        path.write_bytes(REFERENCE_BYTES)
        result = verify_trail(path, Signer.generate().verifier())
    assert not result.ok and result.first_bad_line == 1 and result.first_bad_seq == 0
    assert result.reason is not None and "signed by key" in result.reason


def test_record_re_signed_with_another_key_is_detected() -> None:
    intruder = Signer.generate()
    with scratch() as folder:
        path = folder / "trail.jsonl"
        build_trail(path, 2)
        AuditTrail(path, intruder).append("run.finished", actor="mallory", payload={})
        result = verify_trail(path, VERIFIER)
    assert not result.ok and result.first_bad_line == 3 and result.records_checked == 2


def test_reformatted_line_is_reported_as_not_canonical() -> None:
    obj = json.loads(REFERENCE_LINES[0])
    pretty = json.dumps(obj, indent=None, separators=(", ", ": ")).encode() + b"\n"

    result = verify_bytes(pretty + b"".join(REFERENCE_LINES[1:]))

    assert not result.ok and result.first_bad_line == 1
    assert result.reason is not None and "canonical" in result.reason


def test_edited_payload_with_a_fresh_chain_hash_still_fails_the_signature() -> None:
    obj = json.loads(REFERENCE_LINES[-1])
    obj["payload"]["i"] = 999
    edited = rfc8785.dumps(obj) + b"\n"

    result = verify_bytes(b"".join(REFERENCE_LINES[:-1]) + edited)

    assert not result.ok and result.reason is not None and "signature" in result.reason


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_verify_never_raises_on_garbage(garbage: bytes) -> None:
    result = verify_bytes(REFERENCE_LINES[0] + garbage)
    assert result.ok == (garbage == b"")
    if not result.ok:
        assert result.first_bad_line == 2 and result.records_checked == 1


# --- crash recovery ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cut_short_last_line_is_detected_then_recovered_by_the_next_append(
    data: st.DataObject,
) -> None:
    last_start = len(REFERENCE_BYTES) - len(REFERENCE_LINES[-1])
    cut = data.draw(st.integers(last_start + 1, len(REFERENCE_BYTES) - 1), label="cut")
    fragment = REFERENCE_BYTES[last_start:cut]
    with scratch() as folder:
        path = folder / "trail.jsonl"
        path.write_bytes(REFERENCE_BYTES[:cut])

        broken = verify_trail(path, VERIFIER)
        assert not broken.ok
        assert broken.first_bad_line == len(REFERENCE_LINES)
        assert broken.reason is not None and "cut short" in broken.reason

        trail = AuditTrail(path, SIGNER)
        record = trail.append("run.finished", actor="a", run_id="r", payload={"after": True})

        result = verify_trail(path, VERIFIER)
        assert result.ok, result.reason
        assert result.head_hash == record.hash
        records = list(iter_records(path))
        recovered = records[-2]
        assert recovered.kind == "trail.recovered"
        assert recovered.seq == len(REFERENCE_LINES) - 1
        assert recovered.payload["fragment_bytes"] == len(fragment)
        assert (
            recovered.payload["fragment_sha256"] == "sha256:" + hashlib.sha256(fragment).hexdigest()
        )
        saved = folder / str(recovered.payload["fragment_file"])
        assert saved.read_bytes() == fragment
        assert record.seq == len(REFERENCE_LINES)


def test_file_holding_only_a_fragment_recovers_from_genesis(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    path.write_bytes(REFERENCE_LINES[0][:40])

    AuditTrail(path, SIGNER).append("run.started", actor="a", payload={})

    records = list(iter_records(path))
    assert [r.kind for r in records] == ["trail.recovered", "run.started"]
    assert records[0].prev == GENESIS_HASH
    assert verify_trail(path, VERIFIER).ok


def test_two_fragments_get_two_files(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    trail = AuditTrail(path, SIGNER, clock=lambda: moment)  # same timestamp both times
    for _ in range(2):
        trail.append("run.started", actor="a", payload={})
        with path.open("ab") as handle:
            handle.write(b'{"partial')
    trail.append("run.started", actor="a", payload={})

    assert len(list(FileTrailStore(path).fragments_dir.iterdir())) == 2
    assert verify_trail(path, VERIFIER).ok


# --- a run ends once ---------------------------------------------------------------------


def test_a_second_terminal_record_for_a_run_is_refused(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "trail.jsonl", SIGNER)
    trail.append("run.submitted", actor="a", run_id="r1", payload={})
    trail.append("run.lost", actor="recovery", run_id="r1", payload={})
    with pytest.raises(AuditError, match=r"run r1: cannot record run.finished.*run.lost \(seq 1\)"):
        trail.append("run.finished", actor="a", run_id="r1", payload={})
    # what follows an ending is still recorded, and other runs end as usual
    trail.append("tracking.delivered", actor="a", run_id="r1", payload={})
    trail.append("run.finished", actor="a", run_id="r2", payload={})
    assert [r.kind for r in trail.records_for_run("r1")] == [
        "run.submitted",
        "run.lost",
        "tracking.delivered",
    ]
    assert trail.verify().ok


def test_two_trails_on_one_file_cannot_both_end_a_run(tmp_path: Path) -> None:
    # Two writers (as two processes would be): the check runs under the trail's lock.
    path = tmp_path / "trail.jsonl"
    first, second = AuditTrail(path, SIGNER), AuditTrail(path, SIGNER)
    first.append("run.submitted", actor="a", run_id="r1", payload={})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def end(trail: AuditTrail, kind: str) -> None:
        barrier.wait()
        try:
            trail.append(kind, actor="a", run_id="r1", payload={})
            outcomes.append(kind)
        except AuditError:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=end, args=(first, "run.finished")),
        threading.Thread(target=end, args=(second, "run.lost")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("refused") == 1
    assert sum(r.kind in {"run.finished", "run.lost"} for r in first.records_for_run("r1")) == 1


def test_the_verifier_names_a_run_that_ends_twice(tmp_path: Path) -> None:
    # Written by a store alone, bypassing the trail's check (as an older version could have).
    store = FileTrailStore(tmp_path / "trail.jsonl")
    trail = AuditTrail(store, SIGNER)
    trail.append("run.finished", actor="a", run_id="r1", payload={})
    seal = trail._seal  # the signing step alone, without the refusal
    store.append(
        RunFailed(actor="a", run_id="r1", payload={}),
        lambda event, seq, prev: seal(event.kind, event, {}, seq, prev),
    )
    result = verify_trail(tmp_path / "trail.jsonl", VERIFIER)
    assert not result.ok and result.first_bad_seq == 1
    assert "run r1 ends twice: run.failed after run.finished (seq 0)" in (result.reason or "")
