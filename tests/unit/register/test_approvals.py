"""Which runs are published: approved with publish, finished, same organisation, not withdrawn."""

from __future__ import annotations

from sandbox.audit.signing import Signer
from sandbox.audit.store import MemoryTrailStore
from sandbox.audit.trail import AuditTrail
from sandbox.register.approvals import approved_runs

SIGNER = Signer.generate()


def _run(trail: AuditTrail, run_id: str, tenant: str, end: str = "run.finished") -> None:
    trail.append(
        "run.submitted", actor="ci", run_id=run_id, payload={"pilot": "p", "tenant": tenant}
    )
    trail.append(end, actor="ci", run_id=run_id, payload={"reports": {}})


def _sign(trail: AuditTrail, run_id: str, org: str, decision: str, publish: bool) -> None:
    payload = {"organisation": org, "decision": decision, "publish": publish, "reviewer": "r"}
    trail.append("run.signed_off", actor="r", run_id=run_id, payload=payload)


def test_only_approved_published_finished_runs_of_the_same_organisation() -> None:
    trail = AuditTrail(MemoryTrailStore(), SIGNER)
    _run(trail, "r-ok", "northtown")
    _sign(trail, "r-ok", "northtown", "approved", True)
    _run(trail, "r-private", "northtown")
    _sign(trail, "r-private", "northtown", "approved", False)
    _run(trail, "r-blocked", "northtown", end="run.blocked")
    _sign(trail, "r-blocked", "northtown", "approved", True)
    _run(trail, "r-other", "southport")
    _sign(trail, "r-other", "northtown", "approved", True)  # names another organisation
    _run(trail, "r-withdrawn", "southport")
    _sign(trail, "r-withdrawn", "southport", "approved", True)
    _sign(trail, "r-withdrawn", "southport", "rejected", False)
    assert [a.run_id for a in approved_runs(trail.store)] == ["r-ok"]
    assert approved_runs(trail.store, organisation="southport") == []


def test_a_later_approval_publishes_again() -> None:
    trail = AuditTrail(MemoryTrailStore(), SIGNER)
    _run(trail, "r-1", "northtown")
    _sign(trail, "r-1", "northtown", "rejected", False)
    assert approved_runs(trail.store) == []
    _sign(trail, "r-1", "northtown", "approved", True)
    (approval,) = approved_runs(trail.store)
    assert approval.terminal.kind == "run.finished" and approval.organisation == "northtown"
    assert [r.kind for r in approval.records][-1] == "run.signed_off"
