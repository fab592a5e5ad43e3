"""Names and values are made valid for MLflow before they are sent: a refusal never starts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from mlflow.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,
    MAX_PARAM_VAL_LENGTH,
    MAX_TAG_VAL_LENGTH,
    _validate_metric_name,
    _validate_param_name,
    _validate_tag_name,
)

from sandbox.tracking.base import (
    MAX_KEY_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    clean_metrics,
    clean_params,
    clean_tags,
    tracker_key,
)
from sandbox.tracking.memory import InMemoryTracker

NAMES = st.text(
    alphabet=st.sampled_from(["a", "Z", "0", ".", "/", " ", "-", "_", ":", "(", "\x00", "é"])
    | st.characters(),
    max_size=300,
)


def test_the_limits_are_mlflows() -> None:
    assert MAX_KEY_LENGTH == MAX_ENTITY_KEY_LENGTH
    assert MAX_PARAM_VALUE_LENGTH == MAX_PARAM_VAL_LENGTH
    assert MAX_TAG_VALUE_LENGTH == MAX_TAG_VAL_LENGTH


@given(NAMES)
def test_every_name_becomes_a_key_mlflow_accepts(name: str) -> None:
    key = tracker_key(name)
    assert len(key) <= MAX_ENTITY_KEY_LENGTH
    _validate_param_name(key)
    _validate_metric_name(key)
    _validate_tag_name(key)


@given(NAMES, NAMES)
def test_different_names_never_share_a_key(first: str, second: str) -> None:
    if first != second:
        assert tracker_key(first) != tracker_key(second)


def test_valid_names_are_kept_and_changed_ones_are_recognisable() -> None:
    assert tracker_key("perf.roc_auc") == "perf.roc_auc"
    assert tracker_key("fairness.group.sex.é") == "fairness.group.sex.é"
    assert tracker_key("sandbox.data_sha256.data/./x.csv").startswith(
        "sandbox.data_sha256.data/x.csv--"
    )
    long = tracker_key("fairness.group.g." + "L" * 4000 + ".selection_rate")
    assert long.startswith("fairness.group.g.LLL") and long.endswith(".selection_rate")


def test_values_are_cut_and_made_storable() -> None:
    params = clean_params({"p": "x" * 10_000, "nul": "a\x00b", "s": "\udcff"})
    assert len(params["p"]) == MAX_PARAM_VALUE_LENGTH and params["p"].endswith("[truncated]")
    assert params["nul"] == "a\\x00b"
    assert params["s"] == "\\udcff"
    assert len(clean_tags({"t": "y" * 10_000})["t"]) == MAX_TAG_VALUE_LENGTH
    metrics = clean_metrics({"a/../b": 1.0, "bad\udcff": float("nan")})
    assert list(metrics.finite) == [tracker_key("a/../b")]
    assert metrics.dropped == ("bad\\udcff",)


def test_the_fake_tracker_stores_what_mlflow_would() -> None:
    tracker = InMemoryTracker()
    run = tracker.start_run(experiment="e", run_name="r", tags={"a//b": "1"})
    tracker.log_params(run, {"model.class weight (0)": "2"})
    recorded = tracker.runs[run]
    assert list(recorded.tags) == [tracker_key("a//b")]
    assert list(recorded.params) == [tracker_key("model.class weight (0)")]
