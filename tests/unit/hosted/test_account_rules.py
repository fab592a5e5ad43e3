"""The rules accounts are checked by before any database sees them: ids, names, token format."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import UserInputError
from sandbox.hosted.identity import (
    check_display_name,
    check_organisation_id,
    check_organisation_name,
    check_principal_id,
    name_key,
)
from sandbox.hosted.tokens import NO_PREFIX, new_token, parse_token, secret_digest


@pytest.mark.parametrize("value", ["northtown", "nyc", "city-of-1000-lakes", "a" * 32])
def test_organisation_ids(value: str) -> None:
    assert check_organisation_id(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "ab", "a" * 33, "North", "1town", "north--town", "town-", "north_town", "nörth",
     "a/b", "../etc", "admin", "public", "sandbox", None, 7, "northtown\n"],
)  # fmt: skip
def test_bad_organisation_ids_are_refused_naming_the_field(value: object) -> None:
    with pytest.raises(UserInputError, match="^organisation id: "):
        check_organisation_id(value)


@pytest.mark.parametrize("value", ["ana", "northtown-ci", "ana.lopez", "a" * 64])
def test_principal_ids(value: str) -> None:
    assert check_principal_id(value) == value


@pytest.mark.parametrize("value", ["an", "a" * 65, "Ana", "ana.", "ana lopez", "root", "x\x00y"])
def test_bad_principal_ids_are_refused(value: str) -> None:
    with pytest.raises(UserInputError, match="^principal id: "):
        check_principal_id(value)


@pytest.mark.parametrize("value", ["", " ", "unknown", "<b>x</b>", "a" * 65, "Not  Stated", 3])
def test_organisation_names_follow_the_tenant_rules(value: object) -> None:
    with pytest.raises(UserInputError, match="organisation name"):
        check_organisation_name(value)


@pytest.mark.parametrize("value", ["", "a" * 121, "Ana\x1b[2J", "Ana\nLopez", "Ana\u202e"])
def test_bad_display_names_are_refused(value: str) -> None:
    with pytest.raises(UserInputError, match="^display name: "):
        check_display_name(value)


def test_names_compare_ignoring_case_spacing_and_normal_form() -> None:
    assert name_key(" São  Paulo ") == name_key(unicodedata.normalize("NFD", "SÃO PAULO"))
    assert name_key("Northtown") != name_key("North town")


def test_a_new_token_parses_back_and_only_its_hash_is_kept() -> None:
    prefix, secret, token = new_token()
    assert token == f"sbx_{prefix}_{secret}" and len(token) == 60
    assert parse_token(token) == (prefix, secret)
    assert secret_digest(secret) == hashlib.sha256(secret.encode()).digest()
    assert len({new_token()[0] for _ in range(200)}) == 200


def _token(head: str = "sbx_", prefix: str = "a" * 12, secret: str = "b" * 43) -> str:
    return f"{head}{prefix}_{secret}"


@pytest.mark.parametrize(
    "token",
    ["", "sbx_", "sbx_abc_def", _token(head="SBX_"), _token(prefix="A" * 12),
     _token(prefix="a" * 11), _token(secret="b" * 42), _token(secret="b" * 44),
     _token(secret="b" * 42 + "="), _token() + "\n", None, b"sbx_"],
)  # fmt: skip
def test_a_malformed_token_gets_a_prefix_no_row_has(token: object) -> None:
    assert parse_token(token)[0] == NO_PREFIX


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.text(max_size=300))
def test_parsing_never_fails_and_looks_at_a_bounded_head(token: str) -> None:
    prefix, secret = parse_token(token)
    assert len(secret) <= 129
    assert prefix == NO_PREFIX or token == f"sbx_{prefix}_{secret}"
