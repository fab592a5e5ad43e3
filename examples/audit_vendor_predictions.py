# Shows: how to audit a vendor's predictions file without its model (no container needed):
# the same fairness report, trail record and MLflow run as a full pilot run.
# Usage: python examples/audit_vendor_predictions.py [OUT_DIR]
"""Audit a file of a vendor's predictions for performance and group disparities."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runs.services import build_services
from sandbox.settings import Settings

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("vendor-audit")
out.mkdir(parents=True, exist_ok=True)

# A stand-in for the vendor's file: the true outcome, the vendor's prediction and score, and
# the group columns the city holds. Here the vendor's tool refers district "East" less often.
rng = np.random.default_rng(7)
rows = 4_000
district = rng.choice(["North", "South", "East", "West"], size=rows, p=[0.3, 0.3, 0.2, 0.2])
eligible = rng.random(rows) < 0.4
score = np.clip(0.25 + 0.5 * eligible + rng.normal(0, 0.2, rows), 0, 1)
score = np.where(district == "East", score - 0.15, score)
vendor_file = out / "vendor-predictions.csv"
pd.DataFrame(
    {
        "district": district,
        "eligible": eligible.astype(int),
        "referred": (score > 0.5).astype(int),
        "score": np.clip(score, 0, 1).round(4),
    }
).to_csv(vendor_file, index=False)

audit = audit_predictions(
    vendor_file,
    label="eligible",
    prediction="referred",
    score="score",
    sensitive=["district"],
    services=build_services(Settings()),
    out_dir=out,
)
print(f"audit {audit.run_id}: {audit.verdict.status}")
for rule in audit.verdict.failures:
    print(f"  {rule.severity:5} {rule.rule_id}: {rule.message}")
print(f"report: {audit.reports.get('html', out / 'report.html')}")
