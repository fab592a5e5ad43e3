"""The run attestation: an in-toto Statement v1 in a DSSE envelope signed over the PAE."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from sandbox.audit.attestation import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    pae,
    run_statement,
    sign_envelope,
    verify_envelope,
)
from sandbox.audit.record import TrailRecord
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail
from sandbox.errors import AuditError

SIGNER = Signer.generate()
SHA = "sha256:" + "ab" * 32


def test_pae_matches_the_dsse_specification_vector() -> None:
    # protocol.md of secure-systems-lab/dsse, "Test Vectors"
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("ü", b"") == b"DSSEv1 2 \xc3\xbc 0 "  # lengths count bytes, not characters


def _records(tmp_path: Path) -> list[TrailRecord]:
    trail = AuditTrail(tmp_path / "trail.jsonl", SIGNER)
    return [
        trail.append(
            "run.submitted",
            actor="t",
            run_id="r1",
            payload={"pilot": "p", "version": "1", "manifest_sha256": SHA},
        ),
        trail.append(
            "run.started",
            actor="t",
            run_id="r1",
            payload={
                "image": "runner:1",
                "image_digest": SHA,
                "inputs": {"score.parquet": SHA},
                "data": {"data/x.csv": SHA},
            },
        ),
        trail.append(
            "run.finished",
            actor="t",
            run_id="r1",
            payload={"verdict": "pass", "outputs": {"predictions.csv": SHA}, "reports": {}},
        ),
    ]


def test_statement_names_data_image_and_outputs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    statement = run_statement(_records(tmp_path), report={"evaluation": {"performance": {}}})
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == PREDICATE_TYPE
    names = [s["name"] for s in statement["subject"]]
    assert names == [
        "data/data/x.csv",
        "input/score.parquet",
        "image/runner:1",
        "output/predictions.csv",
    ]
    assert all(s["digest"] == {"sha256": "ab" * 32} for s in statement["subject"])
    assert statement["predicate"]["verdict"] == "pass"
    assert [t["kind"] for t in statement["predicate"]["trail"]] == [
        "run.submitted",
        "run.started",
        "run.finished",
    ]


def test_envelope_verifies_and_any_change_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    envelope = sign_envelope(run_statement(_records(tmp_path)), SIGNER)
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert envelope["signatures"][0]["keyid"] == SIGNER.key_id
    assert verify_envelope(envelope, SIGNER.verifier())["predicate"]["run_id"] == "r1"

    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["predicate"]["verdict"] = "fail"
    forged = {**envelope, "payload": base64.b64encode(json.dumps(payload).encode()).decode()}
    with pytest.raises(AuditError, match="altered"):
        verify_envelope(forged, SIGNER.verifier())
    retyped = {**envelope, "payloadType": "application/json"}
    with pytest.raises(AuditError, match="payloadType"):
        verify_envelope(retyped, SIGNER.verifier())
    unsigned = copy.deepcopy(envelope)
    unsigned["signatures"] = []
    with pytest.raises(AuditError, match="no signature"):
        verify_envelope(unsigned, SIGNER.verifier())
    with pytest.raises(AuditError, match="not among the keys"):
        verify_envelope(envelope, Signer.generate().verifier())


def test_a_blocked_run_is_attested_on_what_it_was_judged_on() -> None:
    from sandbox.audit.attestation import subjects_of

    manifest = "sha256:" + "a" * 64
    pack = "sha256:" + "b" * 64
    submitted = {"manifest_sha256": manifest, "policy_pack_files": {"baseline": pack}}
    blocked = {"verdict": "blocked", "outputs": {}}
    subjects = subjects_of(submitted, blocked, submitted=submitted)
    assert subjects == [
        {"name": "pilot/pilot.yaml", "digest": {"sha256": "a" * 64}},
        {"name": "policy-packs/baseline.yaml", "digest": {"sha256": "b" * 64}},
    ]
