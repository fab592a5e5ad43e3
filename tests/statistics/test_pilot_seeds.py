"""End to end through the real evaluation and rules: a pilot-like run under ten split seeds.

Residents' data with two sensitive attributes (6 areas, 5 age bands) that neither the features
nor the label depend on; a model fitted on the training rows scores 1,800 evaluation rows, 30
intersection cells of about 60. With no disparity the blocking selection-rate and TPR gates
(baseline's rules, raised to block as a city pack would) must pass for at least 9 of 10 split
seeds; with a planted 0.35 selection-rate gap for one area they must catch it for at least 9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sandbox.evaluation.binary import evaluate_binary
from sandbox.manifest import PilotManifest
from sandbox.policies.pack import load_pack
from sandbox.policies.rules import RuleContext, run_rule
from sandbox.runtime.base import Hardening
from tests.pilots import manifest_dict

ROWS = 6000
EVALUATION_ROWS = 1800
SEEDS = range(10)
GATES = ("fairness.selection-rate-difference", "fairness.tpr-difference")


def _residents() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    frame = pd.DataFrame(
        {
            "income": rng.normal(0, 1, ROWS),
            "household": rng.normal(0, 1, ROWS),
            "area": rng.choice([f"area {i}" for i in range(6)], ROWS),
            "age_band": rng.choice(["18-29", "30-44", "45-59", "60-74", "75+"], ROWS),
        }
    )
    signal = 1.2 * frame["income"] - 0.8 * frame["household"] + rng.normal(0, 1, ROWS)
    frame["eligible"] = (signal > 0.6).astype(int)
    return frame


def _verdicts(seed: int, *, planted_gap: bool) -> dict[str, str]:
    frame = _residents()
    order = np.random.default_rng(seed).permutation(ROWS)
    test, train = frame.iloc[order[:EVALUATION_ROWS]], frame.iloc[order[EVALUATION_ROWS:]]
    features = ["income", "household"]
    model = LogisticRegression().fit(train[features], train["eligible"])
    pred = model.predict(test[features]).astype(int)
    if planted_gap:
        # one area is selected 0.35 more often: half its unselected rows become selected
        base = pred.mean()
        lift = 0.35 / (1.0 - base)
        area = (test["area"] == "area 0").to_numpy()
        flip = np.random.default_rng(seed + 100).random(EVALUATION_ROWS) < lift
        pred = np.where(area & flip, 1, pred)
    evaluation = evaluate_binary(
        y_true=test["eligible"].to_numpy(),
        y_pred=pred,
        sensitive=test[["area", "age_band"]].reset_index(drop=True),
        seed=seed,
    )
    ctx = RuleContext(
        manifest=PilotManifest.model_validate(manifest_dict()),
        hardening=Hardening(),
        evaluation=evaluation,
    )
    rules = {r.id: r for r in load_pack("baseline").rules}
    out = {}
    for gate in GATES:
        outcome = run_rule(rules[gate].model_copy(update={"severity": "block"}), ctx)
        out[gate] = (
            "blocked"
            if outcome.outcome == "failed" and outcome.severity == "block"
            else outcome.outcome
        )
    return out


@pytest.mark.parametrize("planted_gap", [False, True], ids=["no disparity", "0.35 gap"])
def test_ten_split_seeds(planted_gap: bool) -> None:
    results = [_verdicts(seed, planted_gap=planted_gap) for seed in SEEDS]
    selection = [r["fairness.selection-rate-difference"] for r in results]
    tpr = [r["fairness.tpr-difference"] for r in results]
    print(f"planted gap {planted_gap}: selection {selection}; tpr {tpr}")
    if planted_gap:
        assert selection.count("blocked") >= 9
    else:
        assert selection.count("passed") >= 9
        assert tpr.count("blocked") <= 1
