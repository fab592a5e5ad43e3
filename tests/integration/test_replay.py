"""Replay with the real engine: the blueprint run reproduces bit for bit; tampering is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.audit.trail import iter_records, verify_trail
from sandbox.errors import AuditError
from sandbox.runs.pilot_run import RunOutcome, run_pilot
from sandbox.runs.replay import replay_run
from sandbox.runs.services import RunServices, build_services
from sandbox.settings import Settings

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "benefits-eligibility-screening"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, runner_image: str) -> RunServices:
    home = tmp_path_factory.mktemp("replay-home")
    return build_services(Settings(home=home, image=runner_image))


@pytest.fixture(scope="module")
def recorded(services: RunServices) -> RunOutcome:
    return run_pilot(BLUEPRINT, services)


@pytest.mark.docker
def test_the_blueprint_run_reproduces_bit_for_bit(
    services: RunServices, recorded: RunOutcome
) -> None:
    outcome = replay_run(recorded.run_id, services, pilot_dir=BLUEPRINT)
    assert outcome.container_state == "succeeded"
    by_name = {c.name: c for c in outcome.outputs}
    assert by_name["predictions.csv"].same and by_name["predictions.csv"].recorded
    assert by_name["explanations.json"].same
    assert outcome.metrics_compared and outcome.metrics_compared > 100
    assert outcome.metrics_differing == ()
    assert outcome.reproduced
    assert (outcome.replay_dir / "output" / "predictions.csv").read_bytes() == (
        recorded.run_dir / "output" / "predictions.csv"
    ).read_bytes()
    last = list(iter_records(services.trail.path))[-1]
    assert last.kind == "audit.replayed" and last.run_id == recorded.run_id
    assert last.payload["reproduced"] is True
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok


@pytest.mark.docker
def test_a_changed_input_is_refused(services: RunServices, recorded: RunOutcome) -> None:
    train = recorded.run_dir / "input" / "train.parquet"
    original = train.read_bytes()
    try:
        train.write_bytes(original + b"\0")
        with pytest.raises(
            AuditError, match=r"refusing to replay .*train\.parquet.*no longer matches"
        ):
            replay_run(recorded.run_id, services)
    finally:
        train.write_bytes(original)


@pytest.mark.docker
def test_a_changed_data_file_is_refused(
    tmp_path: Path, services: RunServices, recorded: RunOutcome
) -> None:
    import shutil

    pilot = Path(shutil.copytree(BLUEPRINT, tmp_path / "pilot"))
    data = next((pilot / "data").glob("*.csv"))
    data.write_bytes(data.read_bytes() + b"\n")
    with pytest.raises(AuditError, match="no longer matches the recorded"):
        replay_run(recorded.run_id, services, pilot_dir=pilot)
