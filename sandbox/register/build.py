"""`build_register`: the published runs of the configured trail, mapped, validated, written.

The steps: read the approvals (``approvals.py``); per organisation and pilot, keep the newest
approved run (earlier approved runs are listed with it); read and check each run's report
(``sources.py``); map it to the Dutch standard and to the UK ATRS record (``mapping.py``,
``sandbox.reports.documents.atrs``); validate every entry (``definitions.py``) before anything
is written; find or sign the checkpoint covering every published record (``evidence.py``);
then write the site (``site.py``). An invalid entry stops the build, naming the run and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import UserInputError
from sandbox.register.approvals import Approval, approved_runs
from sandbox.register.definitions import InvalidEntry, validate_entry
from sandbox.register.entry import Entry
from sandbox.register.evidence import covering_checkpoint, inclusion_proofs
from sandbox.register.mapping import map_report
from sandbox.register.site import write_site
from sandbox.register.sources import load_attestation, load_report
from sandbox.reports.documents.atrs import atrs_record
from sandbox.reports.documents.datasheet import datasheet

if TYPE_CHECKING:
    from sandbox.audit.checkpoint import Checkpoint
    from sandbox.settings import Settings

__all__ = ["Entry", "RegisterBuild", "build_register", "entry_id"]


@dataclass(frozen=True)
class RegisterBuild:
    """What `build_register` wrote."""

    out: Path
    entries: tuple[Entry, ...]
    checkpoint: Checkpoint | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "x"


def entry_id(organisation: str | None, pilot: str) -> str:
    """The entry's id: organisation and pilot as one file-safe slug."""
    return f"{_slug(organisation or 'local')}--{_slug(pilot)}"


def _newest_per_pilot(approvals: list[Approval]) -> dict[tuple[str | None, str], list[Approval]]:
    """Approvals grouped by (organisation, pilot), newest run (by its terminal record) last."""
    groups: dict[tuple[str | None, str], list[Approval]] = {}
    for approval in approvals:
        pilot = next(
            (r.payload.get("pilot") for r in approval.records if r.kind == "run.submitted"), None
        )
        groups.setdefault((approval.organisation, str(pilot)), []).append(approval)
    for runs in groups.values():
        runs.sort(key=lambda a: a.terminal.seq)
    return groups


def _summary(
    ident: str, approval: Approval, report: Any, mapped: Any, earlier: list[str]
) -> dict[str, Any]:
    payload = approval.sign_off.payload
    sheet = datasheet(report)
    return {
        "id": ident,
        "organisation": approval.organisation,
        "pilot": report.pilot.name,
        "version": report.pilot.version,
        "run_id": approval.run_id,
        "earlier_published_runs": earlier,
        "verdict": report.verdict.status,
        "approval": {
            "record_seq": approval.sign_off.seq,
            "time": approval.sign_off.time,
            "reviewer_name": payload.get("reviewer_name"),
            "capacity": payload.get("capacity"),
            "phase": payload.get("phase"),
            "reason": payload.get("reason"),
        },
        "algoritmeregister": mapped.fields,
        "sources": mapped.sources,
        "gaps": mapped.gaps,
        "representation": sheet["group_representation"],
        "files": {
            "page": f"entries/{ident}.html",
            "algoritmeregister": f"entries/{ident}.json",
            "atrs": f"entries/{ident}.atrs.json",
            "records": f"evidence/{ident}/records.jsonl",
            "proofs": f"evidence/{ident}/proofs.json",
            "attestation": f"evidence/{ident}/attestation.dsse.json",
            "checkpoint": "checkpoint.json",
        },
    }


def _entry(ident: str, runs: list[Approval], settings: Settings, signer: Any) -> Entry:
    approval = runs[-1]
    report, _origin = load_report(approval, settings.runs_dir, settings.tracking_uri)
    atrs = atrs_record(report)
    mapped = map_report(report, atrs, source_id=ident)
    validate_entry(ident, mapped.fields)
    earlier = [a.run_id for a in runs[:-1]]
    summary = _summary(ident, approval, report, mapped, earlier)
    attestation = load_attestation(approval, settings.runs_dir, report, signer)
    return Entry(ident, approval, summary, mapped.fields, atrs, attestation)


def build_register(
    settings: Settings, out: Path, *, organisation: str | None = None
) -> RegisterBuild:
    """Build the register of the configured trail into `out` (InvalidEntry: nothing written)."""
    from sandbox.audit.keyring import load_keyring
    from sandbox.runs.services import open_trail

    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: not a folder; give --out a folder to write the site into")
    trail = open_trail(settings)
    keys = load_keyring(settings.key_path)
    keys.setdefault(trail.signer.key_id, trail.signer.verifier())
    entries: list[Entry] = []
    for (org, pilot), runs in sorted(
        _newest_per_pilot(approved_runs(trail.store, organisation=organisation)).items(),
        key=lambda item: entry_id(*item[0]),
    ):
        ident = entry_id(org, pilot)
        if any(e.id == ident for e in entries):
            raise InvalidEntry(f"register entry {ident!r}: two pilots map to the same id")
        entries.append(_entry(ident, runs, settings, trail.signer))
    checkpoint = None
    if entries:
        last = max(r.seq for e in entries for r in e.approval.records)
        checkpoint = covering_checkpoint(trail, keys, settings.checkpoints_dir, last)
        entries = [
            replace(e, proofs=inclusion_proofs(trail, checkpoint, e.approval.records))
            for e in entries
        ]
    write_site(out, entries, checkpoint, keys)
    return RegisterBuild(out, tuple(entries), checkpoint)
