"""The `stack` fixture: a `HostedStack` (tests/integration/hosted_stack.py) in the test's
folder, closed at the end; a skip without PostgreSQL or RabbitMQ on a laptop, a failure in CI.
Test modules import it by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.integration.hosted_stack import HostedStack, ServiceMissing


def missing(why: str) -> NoReturn:
    """Skip for `why`, or fail when CI says every service must be there."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {why}")
    pytest.skip(why)
    raise AssertionError  # pytest.skip raised


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[HostedStack]:
    """A hosted sandbox of the test's own (schemas, vhost, folder), no process started yet."""
    try:
        made = HostedStack(tmp_path)
    except ServiceMissing as exc:
        missing(str(exc))
    try:
        yield made
    finally:
        made.close()
