"""Who may call the API: one bearer token per city, stored only as its SHA-256.

Every caller is treated as a possible attacker from another city: a token names exactly one
tenant, and a tenant sees only the runs recorded for it (see `sandbox.runs.tenant`). A token is
never issued for a name that is not a valid tenant (empty, over-long, markup, a placeholder).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import UserInputError
from sandbox.manifest import describe_validation_error
from sandbox.runs.tenant import check_tenant
from sandbox.yaml_reader import read_yaml

__all__ = ["Tenant", "TenantFile", "TenantRegistry", "issue_token", "token_digest"]


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is stored and looked up as."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def _tenant_name(name: str) -> str:
    try:
        return check_tenant(name, where="city")
    except UserInputError as exc:
        raise ValueError(str(exc)) from None


class Tenant(BaseModel):
    """A city with API access."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    city: Annotated[str, AfterValidator(_tenant_name)]
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _TenantFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: tuple[Tenant, ...] = ()


@dataclass(frozen=True)
class TenantRegistry:
    """The tenants file, loaded once when the app is created."""

    tenants: tuple[Tenant, ...]

    @classmethod
    def load(cls, path: Path) -> TenantRegistry:
        """Read the tenants file; a missing file means no tenant (every call is refused)."""
        if not path.exists():
            return cls(())
        raw = read_yaml(path, max_bytes=1_000_000, error=UserInputError) or {}
        try:
            return cls(_TenantFile.model_validate(raw).tenants)
        except ValidationError as exc:
            raise UserInputError(describe_validation_error(path, exc)) from None

    def city_for(self, token: str) -> str | None:
        """The city a token belongs to, compared in constant time; None when unknown."""
        return self.city_for_digest(token_digest(token))

    def city_for_digest(self, digest: str) -> str | None:
        """The city of the token with this SHA-256; every tenant is compared, in constant time."""
        found = None
        for tenant in self.tenants:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(digest, tenant.token_sha256):
                found = tenant.city
        return found


class TenantFile:
    """The tenants file as the running API sees it: re-read whenever it changes on disk,
    so a token issued (or removed) with the CLI takes effect without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._registry = TenantRegistry(())

    def city_for(self, token: str) -> str | None:
        """The city of `token` in the file's current contents."""
        return self.city_for_digest(token_digest(token))

    def city_for_digest(self, digest: str) -> str | None:
        """The city of the token with this SHA-256, in the file's current contents."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._registry = TenantRegistry.load(self.path)
            self._stamp = stamp
        return self._registry.city_for_digest(digest)


def issue_token(path: Path, city: str) -> str:
    """Create a token for `city`, store its hash in the tenants file, return the token once."""
    check_tenant(city, where="city")  # UserInputError: one line, exit 2
    token = "sbx_" + secrets.token_urlsafe(32)
    registry = TenantRegistry.load(path)
    tenants = [t for t in registry.tenants] + [Tenant(city=city, token_sha256=token_digest(token))]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"tenants": [t.model_dump() for t in tenants]}, handle, sort_keys=False)
    tmp.replace(path)
    return token
