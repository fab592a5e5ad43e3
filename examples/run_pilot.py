# Shows: how to run a pilot from Python and read its verdict, each failed rule and the reports.
# Usage: python examples/run_pilot.py [PILOT_DIR] [OUT_DIR]   (needs Docker and the runner image)
"""Run a pilot under governance from Python and read its verdict."""

import sys
from pathlib import Path

from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).resolve().parents[1] / "blueprints/benefits-eligibility-screening"
pilot = Path(sys.argv[1]) if len(sys.argv) > 1 else BLUEPRINT
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("reports")

# The same edges `sandbox run` uses: Docker, MLflow under SANDBOX_HOME, the signed trail.
services = build_services(Settings())
outcome = run_pilot(pilot, services, out_dir=out)

print(f"run {outcome.run_id}: {outcome.verdict.status}")
for rule in outcome.verdict.failures:  # the rules that did not hold, with their evidence
    print(f"  {rule.severity:5} {rule.rule_id}: {rule.message}")
print(f"reports in {out}/ (report.html, report.json, model-card.md, atrs.md, ...)")
sys.exit(outcome.exit_code)  # 0 pass or pass with warnings, 3 fail or blocked
