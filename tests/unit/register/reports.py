"""A small report with two groups below the minimum size and hostile pilot strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from sandbox.evaluation.binary import evaluate_binary
from sandbox.policies.verdict import RuleOutcome, Verdict
from sandbox.reports import model as r
from sandbox.reports.disclosure import disclosure_of

START = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)
#: group -> (rows, positive predictions); the small groups' counts appear nowhere else.
GROUPS = {"north": (420, 150), "east": (13, 7), "south": (380, 120), "west": (17, 3)}
HOSTILE = '<script>alert("x")</script> & </td>'


def report(**transparency: str) -> r.AuditReport:
    """A finished binary run of pilot `intake` (phase mvp, impact level III)."""
    rng = np.random.default_rng(7)
    labels, preds, y_true = [], [], []
    for name, (rows, positives) in GROUPS.items():
        labels += [name] * rows
        preds += [1] * positives + [0] * (rows - positives)
        y_true += list(rng.integers(0, 2, rows))
    evaluation = evaluate_binary(
        y_true=np.array(y_true),
        y_pred=np.array(preds),
        sensitive=pd.DataFrame({"district": labels}),
        min_group_size=30,
        n_bootstrap=0,
    )
    return r.AuditReport(
        run=r.RunSection(
            run_id="run-1", started_at=START, finished_at=START + timedelta(seconds=5), state="pass"
        ),
        pilot=r.PilotSection(
            name="intake",
            version="1.0.0",
            title=f"Intake triage {HOSTILE}",
            city="Northtown",
            contact="ai@northtown.example",
            purpose=f"Order the intake queue. {HOSTILE}",
            task="binary_classification",
        ),
        data=r.DataSection(
            roles=r.DataRoles(label="eligible", positive_label=1, features=("a", "b"))
        ),
        model=r.ModelSection(entrypoint="model.py:build"),
        governance=r.GovernanceSection(
            phase="mvp",
            human_oversight="A caseworker decides every case.",
            impact_assessment={"assessment": {"level": "III", "mitigated_score": 12.5}},
            transparency=transparency,
        ),
        evaluation=evaluation,
        verdict=Verdict.decide(
            "baseline",
            [
                RuleOutcome(
                    rule_id="runtime.container-succeeded",
                    title="The model ran",
                    stage="runtime",
                    severity="block",
                    outcome="passed",
                    message="ok",
                )
            ],
        ),
        disclosure=disclosure_of(evaluation),
        provenance=r.ProvenanceSection(
            manifest_sha256="a" * 64, policy_pack_id="baseline", policy_pack_sha256="b" * 64
        ),
    )
