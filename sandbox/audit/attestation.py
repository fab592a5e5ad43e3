"""A signed attestation of a run's result: an in-toto Statement v1 in a DSSE envelope.

Supply-chain tools (in-toto, Sigstore, SLSA verifiers) read this shape:

    envelope  = {"payloadType": "application/vnd.in-toto+json",
                 "payload": base64(statement JSON),
                 "signatures": [{"keyid": "ed25519:...", "sig": base64(Ed25519(PAE))}]}
    PAE(t, b) = "DSSEv1" SP len(t) SP t SP len(b) SP b   (lengths in bytes, ASCII decimal)
    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": ..., "digest": {"sha256": "<hex>"}}, ...],
                 "predicateType": "https://ai-commons-sandbox.org/run-result/v1",
                 "predicate": {run id, pilot, verdict, failed rules, metrics summary, ...}}

The subjects are what the result is *about*: the source data files, the input files that
crossed the container wall, the runner image, and what the model produced (predictions,
explanations, the opaque model). The signature is made with the trail's Ed25519 key, so the
bundle's keys verify it too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from sandbox.audit.events import SUBMITTED_KINDS, TERMINAL_KINDS
from sandbox.audit.record import JsonValue, TrailRecord
from sandbox.audit.signing import Signer
from sandbox.audit.verify import Keys, find_key
from sandbox.errors import AuditError

__all__ = [
    "ATTESTATION_NAME",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "pae",
    "run_statement",
    "sign_envelope",
    "subjects_of",
    "verify_envelope",
    "write_attestation",
]

STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
PREDICATE_TYPE: Final = "https://ai-commons-sandbox.org/run-result/v1"
#: The attestation's file name, in the run folder and in a bundle.
ATTESTATION_NAME: Final = "attestation.dsse.json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _digest(value: object) -> dict[str, str] | None:
    if isinstance(value, str) and value.startswith("sha256:") and len(value) == 71:
        return {"sha256": value.removeprefix("sha256:")}
    return None


def subjects_of(
    started: Mapping[str, JsonValue],
    finished: Mapping[str, JsonValue],
    *,
    submitted: Mapping[str, JsonValue] | None = None,
) -> list[Any]:
    """The statement's subjects: data and input files, the image, the outputs, with digests.

    A run that never started (blocked before its container) has none of these; given its
    `submitted` payload, its subjects are what it was judged on: the manifest and the packs.
    """
    subjects: list[dict[str, Any]] = []

    def add(name: str, value: object) -> None:
        digest = _digest(value)
        if digest is not None:
            subjects.append({"name": name, "digest": digest})

    for group, prefix in (("data", "data/"), ("inputs", "input/")):
        entries = started.get(group)
        if isinstance(entries, dict):
            for name, value in sorted(entries.items()):
                add(prefix + name, value)
    image = started.get("image")
    add(f"image/{image}" if isinstance(image, str) else "image", started.get("image_digest"))
    outputs = finished.get("outputs")
    if isinstance(outputs, dict):
        for name, value in sorted(outputs.items()):
            add("output/" + name, value)
    if not subjects and submitted is not None:
        add("pilot/pilot.yaml", submitted.get("manifest_sha256"))
        packs = submitted.get("policy_pack_files")
        if isinstance(packs, dict):
            for name, value in sorted(packs.items()):
                add(f"policy-packs/{name}.yaml", value)
    return subjects


def _metrics_summary(report: Mapping[str, Any] | None) -> dict[str, Any]:
    """Performance, and per attribute set the largest selection-rate gap and four-fifths ratio."""
    evaluation = (report or {}).get("evaluation")
    if not isinstance(evaluation, dict):
        return {}
    summary: dict[str, Any] = {"performance": evaluation.get("performance", {}), "fairness": {}}
    for result in evaluation.get("attribute_sets", []):
        disparity = result.get("disparities", {}).get("selection_rate", {})
        summary["fairness"][result.get("key", result.get("name"))] = {
            "selection_rate_difference": disparity.get("difference", {}).get("value"),
            "selection_rate_ratio": disparity.get("ratio", {}).get("value"),
            "four_fifths_passed": (result.get("four_fifths") or {}).get("passed"),
        }
    return summary


def run_statement(
    records: Sequence[TrailRecord], *, report: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The in-toto statement of one run's result, from its trail records (and report.json)."""
    by_kind = {r.kind: r for r in records}
    submitted = next((by_kind[k] for k in SUBMITTED_KINDS if k in by_kind), None)
    terminal = next((r for r in reversed(records) if r.kind in TERMINAL_KINDS), None)
    if submitted is None or terminal is None:
        raise AuditError(
            "the run has no submitted and final trail records: only a run that ended can be "
            "attested"
        )
    started = by_kind.get("run.started")
    started_payload = started.payload if started else submitted.payload
    subjects = subjects_of(started_payload, terminal.payload, submitted=submitted.payload)
    if not subjects:
        raise AuditError(f"run {terminal.run_id}: nothing with a digest to attest")
    predicate: dict[str, Any] = {
        "run_id": terminal.run_id,
        "pilot": submitted.payload.get("pilot"),
        "version": submitted.payload.get("version"),
        "mode": submitted.payload.get("mode", "container"),
        "verdict": terminal.payload.get("verdict"),
        "final_record": terminal.kind,
        "failed_rules": terminal.payload.get("failed_rules", []),
        "manifest_sha256": submitted.payload.get("manifest_sha256"),
        "policy_packs": submitted.payload.get("policy_packs"),
        "image_digest": started_payload.get("image_digest"),
        "mlflow_run_id": terminal.payload.get("mlflow_run_id"),
        "reports": terminal.payload.get("reports", {}),
        "metrics": _metrics_summary(report),
        "trail": [{"seq": r.seq, "kind": r.kind, "hash": r.hash} for r in records],
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def sign_envelope(statement: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """Wrap `statement` in a DSSE envelope signed by `signer` over the PAE."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": signer.key_id, "sig": signer.sign(pae(PAYLOAD_TYPE, payload))}],
    }


def verify_envelope(envelope: object, keys: Keys) -> dict[str, Any]:
    """Check a DSSE envelope's signature (every one must verify) and return its statement."""
    if not isinstance(envelope, dict) or set(envelope) != {
        "payloadType",
        "payload",
        "signatures",
    }:
        raise AuditError("not a DSSE envelope (payloadType, payload, signatures)")
    kind, encoded, signatures = envelope["payloadType"], envelope["payload"], envelope["signatures"]
    if kind != PAYLOAD_TYPE:
        raise AuditError(f"payloadType {kind!r}, expected {PAYLOAD_TYPE!r}")
    try:
        payload = base64.b64decode(str(encoded).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise AuditError(f"the payload is not base64 ({exc})") from exc
    if not isinstance(signatures, list) or not signatures:
        raise AuditError("the envelope carries no signature")
    for number, entry in enumerate(signatures, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("sig"), str):
            raise AuditError(f"signature {number} is malformed")
        verifier = find_key(keys, str(entry.get("keyid")))
        if verifier is None:
            raise AuditError(f"signature {number}: key {entry.get('keyid')} is not among the keys")
        if not verifier.verify(pae(kind, payload), entry["sig"]):
            raise AuditError(f"signature {number} does not match the payload: it was altered")
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise AuditError(f"the payload is not JSON ({exc})") from exc
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise AuditError(f"the payload is not an in-toto statement ({STATEMENT_TYPE})")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise AuditError(f"predicateType {statement.get('predicateType')!r} is not a run result")
    return statement


def write_attestation(run_dir: Path, records: Sequence[TrailRecord], signer: Signer) -> Path:
    """Sign the run's attestation and write it to `<run_dir>/attestation.dsse.json`."""
    report_path = run_dir / "reports" / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    envelope = sign_envelope(run_statement(records, report=report), signer)
    path = run_dir / ATTESTATION_NAME
    path.write_text(json.dumps(envelope, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
