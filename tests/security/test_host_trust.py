"""Host-side attacks on the evidence: bundles, keys, checkpoints and reports after a run.

The attacker here is on the host, after the runs: someone who can write to the sandbox's
home (replace the trail and its key, drop a public key into the keys folder, edit a report),
or a city that receives another city's bundle and reads what it carries. What must hold:

- an auditor who pins the city's published key, or holds a checkpoint, catches any trail or
  bundle signed by another key, and any history rewritten under the city's own key;
- a key is trusted only if pinned or announced by a signed rotation record from a trusted one;
- a bundle carries its run's records only (no other run, city, pilot, host path or pid),
  each proven by an RFC 9162 inclusion proof against the signed checkpoint;
- a report changed after its run is never signed into a bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sandbox.audit.anchor import pinned_chain
from sandbox.audit.bundle import export_bundle, verify_bundle
from sandbox.audit.checkpoint import (
    checkpoints_dir_for,
    latest_checkpoint,
    read_checkpoint,
    sign_checkpoint,
)
from sandbox.audit.keyring import load_keyring, local_chain, rotate_key
from sandbox.audit.report_integrity import check_report_files
from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, verify_trail
from sandbox.errors import AuditError
from sandbox.runs.pilot_run import RunOutcome, run_pilot
from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runs.services import RunServices
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from tests.e2e.test_cli import sandbox
from tests.pilots import manifest_dict, write_pilot
from tests.unit.runs.test_pilot_run import income_rule


def _services(home: Path) -> RunServices:
    key_path = home / "keys" / "trail-ed25519.pem"
    return RunServices(
        runtime=FakeRuntime(income_rule),
        tracker=InMemoryTracker(),
        trail=AuditTrail(home / "audit" / "trail.jsonl", Signer.load_or_create(key_path)),
        image="runner:test",
        runs_dir=home / "runs",
        actor="analyst@city",
        key_path=key_path,
    )


def _pilot(folder: Path, name: str, city: str) -> Path:
    base = manifest_dict()
    return write_pilot(
        folder,
        manifest=manifest_dict(
            pilot={**base["pilot"], "name": name, "owner": {**base["pilot"]["owner"], "city": city}}
        ),
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def services(home: Path) -> RunServices:
    return _services(home)


@pytest.fixture
def published(tmp_path: Path, services: RunServices) -> Path:
    """The city's public key as an auditor holds it, copied out before any attack."""
    pub = services.trail.signer.public_key_path
    assert pub is not None
    held = tmp_path / "auditor" / "city.pub"
    held.parent.mkdir(parents=True)
    shutil.copy(pub, held)
    return held


def _export(services: RunServices, run_id: str, out: Path, **kwargs: Any) -> Path:
    assert services.key_path is not None
    return export_bundle(
        run_id,
        runs_dir=services.runs_dir,
        trail=services.trail,
        keys=load_keyring(services.key_path),
        checkpoints_dir=checkpoints_dir_for(services.trail.path),
        out=out,
        **kwargs,
    )


def _members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive}  # type: ignore[union-attr]


def _repack(members: dict[str, bytes], dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return dest


def _forge_sandbox(home: Path) -> Signer:
    """Replace the trail and the key wholesale: a new key, a new, self-consistent trail."""
    shutil.rmtree(home / "audit", ignore_errors=True)
    shutil.rmtree(home / "keys", ignore_errors=True)
    forger = Signer.load_or_create(home / "keys" / "trail-ed25519.pem")
    trail = AuditTrail(home / "audit" / "trail.jsonl", forger)
    trail.append("run.submitted", actor="analyst@city", run_id="r-forged", payload={"pilot": "x"})
    trail.append(
        "run.finished", actor="analyst@city", run_id="r-forged", payload={"verdict": "pass"}
    )
    return forger


# --- the trust anchor ----------------------------------------------------------------------


def test_a_trail_and_key_replaced_wholesale_fail_under_a_pinned_key(
    tmp_path: Path, home: Path, services: RunServices, published: Path
) -> None:
    run_pilot(_pilot(tmp_path / "pilot", "harbor", "Northport"), services)
    held = tmp_path / "auditor" / "held.json"
    shutil.copy(latest_checkpoint(checkpoints_dir_for(services.trail.path)) or "", held)
    assert sandbox(home, "audit", "verify", "--trusted-key", str(published)).returncode == 0
    _forge_sandbox(home)

    caught = sandbox(home, "audit", "verify", "--trusted-key", str(published))
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "neither a pinned key" in " ".join(caught.stderr.split())
    assert "trusted: pinned" in caught.stdout
    caught = sandbox(home, "audit", "verify", "--checkpoint", str(held))
    assert caught.returncode == 1  # the held checkpoint is not of this trail either
    # Without a pin the forgery verifies, but the output says what that is worth.
    local = sandbox(home, "audit", "verify")
    assert local.returncode == 0, local.stderr
    assert "trusted: local" in local.stdout
    assert "no key was pinned" in " ".join(local.stderr.split())


def test_a_public_key_dropped_into_the_keys_folder_is_never_trusted(
    home: Path, services: RunServices, published: Path
) -> None:
    services.trail.append("run.submitted", actor="a", run_id="r-1", payload={})
    intruder = Signer.generate()
    dropped = home / "keys" / "public" / (intruder.key_id.replace(":", "-") + ".pub")
    dropped.parent.mkdir(parents=True, exist_ok=True)
    dropped.write_bytes(intruder.verifier().public_key_pem())
    AuditTrail(services.trail.path, intruder).append(
        "run.finished", actor="a", run_id="r-1", payload={"verdict": "pass"}
    )
    assert services.key_path is not None
    chain = local_chain(services.key_path, services.trail.signer.key_id)
    assert intruder.key_id not in chain
    result = verify_trail(services.trail.path, chain)
    assert not result.ok and result.first_bad_seq == 1
    assert "neither a local key" in (result.reason or "")
    for args in ([], ["--trusted-key", str(published)]):
        outcome = sandbox(home, "audit", "verify", *args)
        assert outcome.returncode == 1, (args, outcome.stdout, outcome.stderr)
        assert "announced by a signed rotation record" in " ".join(outcome.stderr.split())


def test_rotations_are_followed_only_from_a_trusted_key(
    tmp_path: Path, home: Path, services: RunServices, published: Path
) -> None:
    assert services.key_path is not None
    services.trail.append("run.submitted", actor="a", run_id="r-1", payload={})
    rotation = rotate_key(services.trail.path, services.key_path, actor="admin")
    AuditTrail(services.trail.path, rotation.signer).append(
        "run.finished", actor="a", run_id="r-1", payload={}
    )
    outcome = sandbox(home, "audit", "verify", "--trusted-key", str(published))
    assert outcome.returncode == 0, outcome.stderr
    assert f"rotation record seq {rotation.record.seq}" in outcome.stdout
    # A rotation record signed by a key nobody trusts hands over nothing.
    rogue, successor = Signer.generate(), Signer.generate()
    rogue_trail = AuditTrail(services.trail.path, rogue)
    rogue_trail.append(
        "trail.key_rotated",
        actor="x",
        payload={
            "old_key_id": rogue.key_id,
            "new_key_id": successor.key_id,
            "new_public_key": successor.verifier().public_key_pem().decode(),
        },
    )
    AuditTrail(services.trail.path, successor).append("run.finished", actor="x", payload={})
    result = verify_trail(services.trail.path, pinned_chain([published], []))
    assert not result.ok and result.first_bad_seq == rotation.record.seq + 2


# --- bundles: nothing of other runs, every record proven ------------------------------------


@pytest.fixture
def two_cities(
    tmp_path: Path, services: RunServices, published: Path
) -> tuple[RunOutcome, RunOutcome]:
    """A run of Northport's pilot, host-revealing records of others, a key rotation (after
    the auditor copied the city's key), then Southvale's run."""
    north = run_pilot(_pilot(tmp_path / "north", "harbor-permits", "Northport"), services)
    services.trail.append(
        "run.lost",
        actor="sandbox",
        run_id="20260101T000000Z-0ther1",
        payload={"runner_pid": 48213, "pilot_dir": "/srv/cities/northport/secret-pilot"},
    )
    assert services.key_path is not None
    rotation = rotate_key(services.trail.path, services.key_path, actor="admin")
    services = _services(services.trail.path.parent.parent)
    assert services.trail.signer.key_id == rotation.new_key_id
    south = run_pilot(_pilot(tmp_path / "south", "benefit-screen", "Southvale"), services)
    return north, south


def test_a_bundle_reveals_nothing_of_other_runs(
    tmp_path: Path, home: Path, two_cities: tuple[RunOutcome, RunOutcome], published: Path
) -> None:
    north, south = two_cities
    services = _services(home)
    bundle = _export(services, south.run_id, tmp_path / "south.tar.gz")
    members = _members(bundle)
    secrets = [
        north.run_id,
        "20260101T000000Z-0ther1",
        "harbor-permits",
        "Northport",
        "/srv/cities",
        str(tmp_path / "north"),
    ]
    for name, data in members.items():
        for secret in secrets:
            assert secret.encode() not in data, f"{name} reveals {secret}"
        # the other run's process id, as a number of its own (a float's digits may hold it)
        assert not re.search(rb"(?<![\d.])48213(?!\d)", data), f"{name} reveals 48213"
    # No host path and no process id outside the run's own signed reports.
    for name, data in members.items():
        if "/reports/" not in name:
            assert str(tmp_path).encode() not in data, f"{name} reveals a host path"
    state = json.loads(members[f"{south.run_id}/run/run.json"])
    assert "pid" not in state and "pilot_dir" not in state
    records = [
        json.loads(line) for line in members[f"{south.run_id}/trail/records.jsonl"].splitlines()
    ]
    assert {r["run_id"] for r in records} == {south.run_id, None}
    assert {r["kind"] for r in records if r["run_id"] is None} == {"trail.key_rotated"}

    clean = tmp_path / "elsewhere"
    clean.mkdir()
    moved = Path(shutil.copy(bundle, clean / "b.tar.gz"))
    shutil.rmtree(home)
    result = verify_bundle(moved, trusted_keys=pinned_chain([published], []))
    assert result.ok, result.problem
    assert result.trusted == "pinned"
    assert any("rotation record" in line for line in result.trusted_keys)


def test_a_tampered_proof_wrong_root_or_foreign_record_is_refused(
    tmp_path: Path, home: Path, two_cities: tuple[RunOutcome, RunOutcome], published: Path
) -> None:
    north, south = two_cities
    services = _services(home)
    bundle = _export(services, south.run_id, tmp_path / "south.tar.gz")
    members = _members(bundle)
    root = south.run_id
    pinned = pinned_chain([published], [])
    assert verify_bundle(_repack(members, tmp_path / "same.tar.gz"), trusted_keys=pinned).ok

    proofs = json.loads(members[f"{root}/trail/proofs.json"])
    seq = next(iter(proofs["inclusion"]))
    proofs["inclusion"][seq][0] = hashlib.sha256(b"x").hexdigest()
    forged = _resign(
        members, root, f"{root}/trail/proofs.json", _json(proofs), services.trail.signer
    )
    result = verify_bundle(_repack(forged, tmp_path / "proof.tar.gz"), trusted_keys=pinned)
    assert not result.ok and "not proven in the checkpoint's tree" in (result.problem or "")

    # The key holder signs a checkpoint with another root: the proofs no longer lead to it.
    cp = read_checkpoint(latest_checkpoint(checkpoints_dir_for(services.trail.path)) or Path())
    wrong = sign_checkpoint(
        cp.trail_size, cp.head_hash, services.trail.signer, tree_root=hashlib.sha256(b"y").digest()
    )
    forged = _resign(
        members, root, f"{root}/checkpoint.json", wrong.canonical(), services.trail.signer
    )
    result = verify_bundle(_repack(forged, tmp_path / "root.tar.gz"), trusted_keys=pinned)
    assert not result.ok and "not proven" in (result.problem or "")

    # Another run's genuine record, with its genuine proof, is still refused in this bundle.
    other = services.trail.records_for_run(north.run_id)[0]
    lines = members[f"{root}/trail/records.jsonl"]
    added = other.canonical() + b"\n" + lines
    forged = _resign(members, root, f"{root}/trail/records.jsonl", added, services.trail.signer)
    result = verify_bundle(_repack(forged, tmp_path / "foreign.tar.gz"), trusted_keys=pinned)
    assert not result.ok and "another run" in (result.problem or "")


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _resign(
    members: dict[str, bytes], root: str, name: str, data: bytes, signer: Signer
) -> dict[str, bytes]:
    """Replace one member and re-sign the manifest: what a thief of the current key can do."""
    import rfc8785

    changed = {**members, name: data}
    manifest = json.loads(changed[f"{root}/MANIFEST.json"])
    manifest["files"][name.removeprefix(f"{root}/")] = "sha256:" + hashlib.sha256(data).hexdigest()
    manifest.pop("sig")
    manifest["sig"] = signer.sign(rfc8785.dumps(manifest))
    changed[f"{root}/MANIFEST.json"] = rfc8785.dumps(manifest) + b"\n"
    return changed


def test_a_bundle_signed_by_an_unpinned_key_is_refused(
    tmp_path: Path, home: Path, services: RunServices, published: Path
) -> None:
    _forge_sandbox(home)
    forged_services = _services(home)
    run = run_pilot(_pilot(tmp_path / "pilot", "harbor", "Northport"), forged_services)
    bundle = _export(forged_services, run.run_id, tmp_path / "forged.tar.gz")
    assert verify_bundle(bundle).ok  # intact, by its own keys ...
    assert verify_bundle(bundle).trusted == "bundle"
    refused = sandbox(
        tmp_path / "empty", "audit", "verify-bundle", str(bundle), "--trusted-key", str(published)
    )
    assert refused.returncode == 1  # ... but not the city's
    assert "neither a pinned key" in " ".join(refused.stderr.split())
    unpinned = sandbox(tmp_path / "empty", "audit", "verify-bundle", str(bundle))
    assert unpinned.returncode == 0 and "trusted: bundle" in unpinned.stdout
    assert "no key was pinned" in " ".join(unpinned.stderr.split())


def test_a_held_checkpoint_catches_history_rewritten_under_the_citys_key(
    tmp_path: Path, home: Path, services: RunServices, published: Path
) -> None:
    first = run_pilot(_pilot(tmp_path / "a", "harbor", "Northport"), services)
    held = read_checkpoint(latest_checkpoint(checkpoints_dir_for(services.trail.path)) or Path())
    later = run_pilot(_pilot(tmp_path / "b", "permits", "Northport"), services)
    bundle = _export(services, later.run_id, tmp_path / "b.tar.gz", held=[held])
    pinned = pinned_chain([published], [])
    result = verify_bundle(bundle, trusted_keys=pinned, held=[held])
    assert result.ok, result.problem
    assert any("extends it" in check for check in result.checks)

    # The operator drops the first run's records and re-signs the rest with the city's key.
    trail = services.trail.path
    kept = [json.loads(x) for x in trail.read_bytes().splitlines()]
    kept = [r for r in kept if r["run_id"] != first.run_id]
    trail.unlink()
    shutil.rmtree(checkpoints_dir_for(trail))
    rewritten = AuditTrail(trail, services.trail.signer)
    for r in kept:
        rewritten.append(r["kind"], actor=r["actor"], run_id=r["run_id"], payload=r["payload"])
    with pytest.raises(AuditError, match="does not extend"):
        _export(services, later.run_id, tmp_path / "c.tar.gz", held=[held])
    fresh = _export(services, later.run_id, tmp_path / "d.tar.gz")
    result = verify_bundle(fresh, trusted_keys=pinned, held=[held])
    assert not result.ok and "no consistency" in (result.problem or "")


# --- reports and checkpoints of every kind of run --------------------------------------------


def test_a_report_edited_after_its_run_is_refused_on_export(
    tmp_path: Path, services: RunServices
) -> None:
    run = run_pilot(_pilot(tmp_path / "pilot", "harbor", "Northport"), services)
    reports = run.record.run_dir / "reports"
    records = services.trail.records_for_run(run.run_id)
    assert (
        check_report_files(run.record.run_dir, records, keys=services.trail.signer.verifier()) == []
    )
    md = reports / "report.md"
    md.write_text(md.read_text().replace("fail", "pass"))
    (reports / "extra.html").write_text("<p>all good</p>")
    (reports / "report.json").unlink()
    (reports / "report.json").symlink_to(tmp_path / "elsewhere.json")
    found = {(p.name, p.issue) for p in check_report_files(run.record.run_dir, records)}
    assert found == {
        ("report.md", "modified"),
        ("extra.html", "unrecorded"),
        ("report.json", "not a regular file"),
    }
    with pytest.raises(AuditError, match=r"reports/report\.md: was changed after the run"):
        _export(services, run.run_id, tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()
    forged = Signer.generate().verifier()
    assert check_report_files(run.record.run_dir, records, keys=forged)[0].issue == "unsigned"


def test_a_predictions_only_audit_is_checkpointed_like_every_run(
    tmp_path: Path, services: RunServices
) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"sex": rng.choice(["f", "m"], 300), "y": rng.integers(0, 2, 300)})
    frame["p"] = frame["y"]
    data = tmp_path / "vendor.csv"
    frame.to_csv(data, index=False)
    audit = audit_predictions(
        data, label="y", prediction="p", sensitive=["sex"], services=services, n_bootstrap=20
    )
    last = services.trail.records_for_run(audit.run_id)[-1]
    cp = read_checkpoint(latest_checkpoint(checkpoints_dir_for(services.trail.path)) or Path())
    assert cp.trail_size == last.seq + 1 and cp.head_hash == last.hash and cp.tree_root
    bundle = _export(services, audit.run_id, tmp_path / "audit.tar.gz")
    assert services.key_path is not None
    assert verify_bundle(bundle, trusted_keys=load_keyring(services.key_path)).ok
