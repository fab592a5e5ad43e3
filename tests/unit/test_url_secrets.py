"""Service URLs (hosted database, broker) shown and scrubbed without their passwords.

The trail's URL has its own cases in tests/unit/audit/test_trail_url.py; these are the other
two services, which share `sandbox.url_secrets` with it.
"""

from __future__ import annotations

import pytest

from sandbox import url_secrets
from sandbox.errors import UserInputError
from sandbox.hosted import database

SECRET = "s3cr:t/p@ss"
ENCODED = "s3cr%3At%2Fp%40ss"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://sandbox:{ENCODED}@db:5432/hosted",
        f"postgresql://sandbox@db:5432/hosted?sslmode=require&password={ENCODED}",
        f"postgresql+psycopg://sandbox@db/hosted?PASSWORD={ENCODED}",
    ],
)
def test_the_hosted_database_url_never_shows_its_password(url: str) -> None:
    checked = database.check_url(url)
    shown = database.redact(checked)
    assert SECRET not in shown and ENCODED not in shown and "***" in shown
    assert shown.startswith("postgresql://sandbox") and "+psycopg" not in shown
    said = f'password authentication failed: "{SECRET}" ({ENCODED})'
    assert database.scrub(said, checked) == 'password authentication failed: "***" (***)'


def test_a_hosted_url_without_a_password_is_shown_as_it_is() -> None:
    checked = database.check_url("postgresql://sandbox@db:5432/hosted?sslmode=require")
    assert database.redact(checked) == "postgresql://sandbox@db:5432/hosted?sslmode=require"


def test_a_refused_hosted_url_does_not_echo_its_password() -> None:
    with pytest.raises(UserInputError, match="not a PostgreSQL URL") as caught:
        database.check_url(f"mysql://sandbox@db/hosted?password={ENCODED}")
    assert ENCODED not in str(caught.value) and SECRET not in str(caught.value)


def test_a_broker_url_and_the_brokers_words_lose_the_password() -> None:
    url = f"amqp://sandbox:{ENCODED}@127.0.0.1:5672/sandbox"
    assert url_secrets.redact(url) == "amqp://sandbox:***@127.0.0.1:5672/sandbox"
    said = f"[Errno 111] Connection refused: {url} as sandbox/{SECRET}"
    scrubbed = url_secrets.scrub(said, url)
    assert SECRET not in scrubbed and ENCODED not in scrubbed


def test_a_url_too_malformed_to_parse_is_still_redacted() -> None:
    url = f"amqp://sandbox:{SECRET}@host:port/x"
    assert SECRET not in url_secrets.redact(url)
