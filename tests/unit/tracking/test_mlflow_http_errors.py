"""How the MLflow tracker classifies a tracking server's HTTP failures on artifact uploads.

An upload through a server (`mlflow-artifacts:/`) fails as requests' HTTPError, not as an
MlflowException: a 4xx there is a refusal (set aside, never retried), while 5xx, credentials,
timeouts and rate limits mean "not now" (queued in the outbox).
"""

from __future__ import annotations

import pytest
import requests

from sandbox.errors import TrackingError, TrackingRefused
from sandbox.tracking.mlflow import _mlflow_errors


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} from the server", response=response)


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_client_error_on_upload_is_a_refusal(status: int) -> None:
    with pytest.raises(TrackingRefused, match="log artifact"), _mlflow_errors("log artifact"):
        raise _http_error(status)


@pytest.mark.parametrize("status", [401, 403, 408, 429, 500, 503])
def test_a_passing_failure_on_upload_is_retried_later(status: int) -> None:
    with pytest.raises(TrackingError) as caught, _mlflow_errors("log artifact"):
        raise _http_error(status)
    assert not isinstance(caught.value, TrackingRefused)


def test_no_connection_is_retried_later() -> None:
    with pytest.raises(TrackingError) as caught, _mlflow_errors("log artifact"):
        raise requests.ConnectionError("connection refused")
    assert not isinstance(caught.value, TrackingRefused)
