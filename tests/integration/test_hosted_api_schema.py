"""schemathesis against the hosted API's own OpenAPI document: no call is a server error.

Cases are generated from `/openapi.json` and sent, with a valid token, to the app running
in-process over real PostgreSQL. Hypothesis is derandomized, so every run sends the same
cases. Two callers cover both sides of the matrix: a city's data team and an operator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.integration.hosted_api import World, make_world

EXAMPLES = 25
# An archive is bytes: generated bodies are sent as they are, like application/octet-stream.
schemathesis.serializer.alias("application/gzip", "application/octet-stream")


@pytest.fixture
def served(new_schema: Any, tmp_path: Path) -> Iterator[World]:
    made = make_world(new_schema(), tmp_path / "home", trail_url=new_schema())
    with made.client:
        yield made


def _no_server_errors(world: World, caller: str) -> list[str]:
    """Run EXAMPLES generated cases per operation as `caller`; the labels of those checked."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    checked: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema FastAPI publishes is valid
        operation = result.ok()

        @given(case=operation.as_strategy())
        @_SETTINGS
        def run(case: Any) -> None:
            case.call_and_validate(headers=world.auth(caller), checks=[not_a_server_error])

        run()
        checked.append(operation.label)
    return checked


_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("caller", ["data_team", "operator"])
def test_no_generated_call_is_a_server_error(served: World, caller: str) -> None:
    checked = _no_server_errors(served, caller)
    assert "POST /api/v1/submissions" in checked
    assert len(checked) == len(set(checked)) >= 9
