# Shows: how to start a pilot from a blueprint and change its model: here a gradient-boosted
# model without the two location features the blueprint documents as proxies for race.
# Usage: python examples/start_from_blueprint.py [WORK_DIR]   (needs Docker and the runner image)
"""Copy a blueprint, swap its model and features, run it, and compare with the blueprint."""

import sys
from pathlib import Path

import yaml

from sandbox.blueprints import find_blueprint
from sandbox.blueprints.copying import copy_blueprint
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import build_services
from sandbox.settings import Settings

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("blueprint-example")
pilot = work / "my-screening"
copy_blueprint(find_blueprint("benefits-eligibility-screening"), pilot)  # data verified

# The new model: any object with fit and predict. Column types are found at fit time, so the
# factory keeps working whichever features pilot.yaml lists.
(pilot / "model.py").write_text(
    """\
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder


def build_model(**params):
    text = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                          encoded_missing_value=-1)
    preprocess = make_column_transformer(
        (text, make_column_selector(dtype_include=object)), remainder="passthrough"
    )
    return make_pipeline(preprocess, HistGradientBoostingClassifier(**params))
""",
    encoding="utf-8",
)
manifest = yaml.safe_load((pilot / "pilot.yaml").read_text(encoding="utf-8"))
proxies = ["service_district", "distance_to_office_km"]
manifest["pilot"]["name"] = "my-screening"
manifest["data"]["features"] = [f for f in manifest["data"]["features"] if f not in proxies]
manifest["data"]["proxies"] = [*manifest["data"]["proxies"], *proxies]
manifest["model"]["params"] = {"max_iter": 200, "learning_rate": 0.1, "random_state": 0}
(pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")

outcome = run_pilot(pilot, build_services(Settings()), out_dir=work / "reports")
print(f"run {outcome.run_id}: {outcome.verdict.status}")
for rule in outcome.verdict.failures:
    print(f"  {rule.severity:5} {rule.rule_id}: {rule.message}")
print(f"compare with the blueprint's README: {pilot / 'README.md'}")
