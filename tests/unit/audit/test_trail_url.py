"""Choosing the trail's store from SANDBOX_TRAIL_URL, and never showing a URL's password."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.audit.store import FileTrailStore, open_store
from sandbox.audit.store.postgres_url import check_url, redact, scrub
from sandbox.errors import UserInputError
from sandbox.settings import Settings

SECRET = "s3cr:t/p@ss"
URL = "postgresql://sandbox:s3cr%3At%2Fp%40ss@db.example:5432/sandbox"


def test_no_url_keeps_the_file_trail_under_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_TRAIL_URL", raising=False)
    settings = Settings(home=tmp_path)
    store = open_store(settings.trail_url, default=settings.trail_path)
    assert isinstance(store, FileTrailStore)
    assert store.path == tmp_path / "audit" / "trail.jsonl"


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TRAIL_URL", URL)
    assert Settings().trail_url == URL


@pytest.mark.parametrize(
    "url",
    [
        "mysql://sandbox:" + SECRET + "@db/sandbox",
        "sqlite:///trail.db",
        "/var/lib/trail.jsonl",
    ],
)
def test_another_url_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(UserInputError, match="SANDBOX_TRAIL_URL") as caught:
        open_store(url, default=Path("trail.jsonl"))
    assert SECRET not in str(caught.value)
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgresql://sandbox:pw@db:notaport/sandbox", "not a URL"),
        ("postgresql:///sandbox", "names no host"),
        ("postgresql://sandbox:pw@db/" + "x" * 5000, "longer than"),
        ("   ", "empty"),
    ],
)
def test_a_malformed_postgres_url_is_refused_before_connecting(url: str, why: str) -> None:
    with pytest.raises(UserInputError, match=why) as caught:
        check_url(url)
    assert ":pw@" not in str(caught.value)


def test_redact_hides_the_password_in_the_user_part_and_the_query() -> None:
    assert redact(URL) == "postgresql://sandbox:***@db.example:5432/sandbox"
    shown = redact("postgresql://db/sandbox?user=a&password=" + "hunter2&sslmode=require")
    assert "hunter2" not in shown and "password=***" in shown and "sslmode=require" in shown
    assert redact("postgresql://sandbox@db/sandbox") == "postgresql://sandbox@db/sandbox"


def test_scrub_removes_every_spelling_of_the_password() -> None:
    text = f"failed for {SECRET} ({URL}) and s3cr%3At%2Fp%40ss"
    assert SECRET not in scrub(text, URL)
    assert "s3cr%3At%2Fp%40ss" not in scrub(text, URL)
    assert scrub(text, URL).count("***") == 3
