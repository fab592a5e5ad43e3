"""Who a run belongs to: the tenant the operator configured, never what a pilot claims.

A pilot's manifest names a city (`pilot.owner.city`), but that is the pilot's statement, not
an identity: anyone can write any city there. The sandbox's tenant is set by the operator
(`SANDBOX_TENANT`, or `--tenant` on `sandbox run` and `sandbox audit evaluate`), written into
the run's state file and signed into its submitted record; the API serves a run only to the
token of the tenant recorded for it. A tenant name is a short, printable name in a safe
character set, and never a reserved or placeholder word.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from sandbox.errors import UserInputError

__all__ = ["MAX_TENANT_LENGTH", "RESERVED_TENANTS", "check_tenant"]

MAX_TENANT_LENGTH: Final = 64
# Letters and digits of any script, then also spaces and the punctuation of place names;
# nothing that could be markup, a path, a placeholder in brackets or a control character.
_TENANT = re.compile(r"[^\W_](?:[\w .,'&()-]*(?:[^\W_]|[).]))?")
RESERVED_TENANTS: Final = frozenset(
    {
        "admin",
        "all",
        "anonymous",
        "any",
        "default",
        "everyone",
        "n/a",
        "na",
        "none",
        "not stated",
        "null",
        "operator",
        "public",
        "root",
        "sandbox",
        "system",
        "unknown",
        "unspecified",
    }
)


def check_tenant(name: str, *, where: str) -> str:
    """`name` if it is a valid tenant name; UserInputError naming `where` and the rule if not."""
    rule = (
        f"a tenant is 1-{MAX_TENANT_LENGTH} characters: letters, digits, spaces and . , ' & ( ) -, "
        "starting with a letter or digit"
    )
    if not name or not name.strip():
        raise UserInputError(f"{where}: the tenant name is empty ({rule})")
    shown = ascii(name[:80])
    if len(name) > MAX_TENANT_LENGTH:
        raise UserInputError(f"{where}: the tenant name {shown} is too long ({rule})")
    if unicodedata.normalize("NFC", name) != name or not _TENANT.fullmatch(name) or "  " in name:
        raise UserInputError(f"{where}: the tenant name {shown} is not allowed ({rule})")
    if " ".join(name.casefold().split()) in RESERVED_TENANTS:
        raise UserInputError(f"{where}: {shown} is a reserved name, not a tenant")
    return name
