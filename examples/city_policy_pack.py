# Shows: how a city writes its own policy pack that extends `baseline` (here: the four-fifths
# rule becomes blocking) and runs a pilot under it.
# Usage: python examples/city_policy_pack.py [WORK_DIR]   (needs Docker and the runner image)
"""A city's policy pack on top of baseline, and a pilot run under it."""

import sys
from pathlib import Path

import yaml

from sandbox.blueprints import find_blueprint
from sandbox.blueprints.copying import copy_blueprint
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("city-pack-example")
pilot = work / "pilot"
copy_blueprint(find_blueprint("benefits-eligibility-screening"), pilot)

# The city's pack lives in the pilot folder. A pack may add rules and tighten inherited ones,
# never loosen them: `sandbox policy show packs/example-city.yaml` lists the result.
(pilot / "packs").mkdir()
(pilot / "packs" / "example-city.yaml").write_text(
    """\
id: example-city
version: 1.0.0
description: Example City's rules on top of the sandbox's baseline.
extends: baseline
rules:
  - id: fairness.four-fifths        # inherited from baseline: only the fields that change
    severity: block
""",
    encoding="utf-8",
)
manifest = yaml.safe_load((pilot / "pilot.yaml").read_text(encoding="utf-8"))
manifest["governance"]["policy_packs"] = ["packs/example-city.yaml"]
(pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")

outcome = run_pilot(pilot, build_services(Settings()), out_dir=work / "reports")
# fail: the blueprint's documented disparity now blocks
print(f"run {outcome.run_id}: {outcome.verdict.status}")
for rule in outcome.verdict.failures:
    print(f"  {rule.severity:5} {rule.rule_id}: {rule.message}")
