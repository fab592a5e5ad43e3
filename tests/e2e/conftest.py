"""End-to-end tests share the runner image fixture with the integration tests."""

from tests.integration.conftest import runner_image

__all__ = ["runner_image"]
