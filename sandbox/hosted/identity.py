"""Who is calling a hosted sandbox: organisations, principals, their kinds and roles.

An organisation is a registered city (or an auditing body, or the operators themselves) with a
short slug id, `northtown`, and a name, `Northtown`: the name is what the city's pilots write in
`pilot.owner.city` and what single-machine runs record as their tenant, so it follows the
tenant-name rules of `sandbox.runs.tenant`. A principal (a person or a service such as a city's
CI) belongs to exactly one organisation and holds roles. These are plain frozen values: the
database (`accounts.py`) builds them, the access matrix (`access.py`) reads them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sandbox.errors import UserInputError
from sandbox.runs.tenant import RESERVED_TENANTS, check_tenant

__all__ = [
    "MAX_DISPLAY_NAME",
    "Kind",
    "Organisation",
    "Principal",
    "Role",
    "check_display_name",
    "check_organisation_id",
    "check_organisation_name",
    "check_principal_id",
    "name_key",
]


class Role(StrEnum):
    """What a principal may do, within the limits `access.allowed` sets."""

    DATA_TEAM = "data_team"  # submit and read its own organisation's runs
    REVIEWER = "reviewer"  # sign off its own organisation's runs
    AUDITOR = "auditor"  # read and verify the organisations it is granted
    OPERATOR = "operator"  # run the service: queue, tokens, organisations; never a city's decision
    WORKER = "worker"  # a worker host's service: fetch queued jobs' archives, nothing else


class Kind(StrEnum):
    """A person signs off; a service (a city's CI, a scheduler) only automates."""

    USER = "user"
    SERVICE = "service"


MAX_DISPLAY_NAME: Final = 120
# Short, lower-case, URL- and path-safe: ids appear in routes, file names and log lines.
_ORGANISATION_ID: Final = re.compile(r"[a-z][a-z0-9-]{1,30}[a-z0-9]")
_PRINCIPAL_ID: Final = re.compile(r"[a-z][a-z0-9.-]{1,62}[a-z0-9]")


@dataclass(frozen=True, kw_only=True)
class Organisation:
    """A registered organisation."""

    id: str
    name: str
    created: datetime


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An authenticated caller: one organisation, its roles, and the organisations it audits."""

    id: str
    organisation: str  # the organisation's id
    organisation_name: str
    display_name: str
    kind: Kind
    roles: frozenset[Role]
    audits: frozenset[str] = frozenset()  # organisation ids granted to it as an auditor


def name_key(name: str) -> str:
    """The form two organisation names are compared in: NFC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _check_slug(value: object, pattern: re.Pattern[str], field: str, rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or "--" in value:
        shown = ascii(value[:80]) if isinstance(value, str) else type(value).__name__
        raise UserInputError(f"{field}: {shown} is not a valid id ({rule})")
    if value in RESERVED_TENANTS:
        raise UserInputError(f"{field}: {value!r} is a reserved word; choose another id")
    return value


def check_organisation_id(value: object, *, field: str = "organisation id") -> str:
    """`value` if it is an organisation id; UserInputError naming `field` and the rule if not."""
    rule = "3-32 characters: a-z, 0-9 and single hyphens, starting with a letter, e.g. northtown"
    return _check_slug(value, _ORGANISATION_ID, field, rule)


def check_principal_id(value: object, *, field: str = "principal id") -> str:
    """`value` if it is a principal id; UserInputError naming `field` and the rule if not."""
    rule = "3-64 characters: a-z, 0-9, '.' and '-', starting with a letter, e.g. northtown-ci"
    return _check_slug(value, _PRINCIPAL_ID, field, rule)


def check_organisation_name(value: object, *, field: str = "organisation name") -> str:
    """A tenant name (`sandbox.runs.tenant`): what the organisation's pilots call it."""
    if not isinstance(value, str):
        raise UserInputError(f"{field}: expected text, got {type(value).__name__}")
    return check_tenant(value, where=field)


def check_display_name(value: object, *, field: str = "display name") -> str:
    """Printable text of 1-120 characters, no control characters (it reaches terminals)."""
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"{field}: empty; give a name people recognise, e.g. 'Ana Lopez'")
    if len(value) > MAX_DISPLAY_NAME:
        raise UserInputError(f"{field}: longer than {MAX_DISPLAY_NAME} characters; shorten it")
    if not value.isprintable() or unicodedata.normalize("NFC", value) != value:
        raise UserInputError(
            f"{field}: {value[:80]!a} holds control or unnormalised characters; "
            "use plain printable text"
        )
    return value
