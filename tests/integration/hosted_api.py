"""A hosted API for the tests: real PostgreSQL (accounts, jobs, the trail), a real archive
store under the test's folder, and the app itself in-process.

`world` registers four organisations and one principal per role and relation the access
matrix distinguishes, each with a token, plus an expired and a revoked token. Jobs are handed
to a recording `enqueue` instead of a broker: the API's part ends once a job is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.api.hosted import create_hosted_app
from sandbox.hosted.accounts import Accounts
from sandbox.hosted.intake import ArchiveLimits
from sandbox.hosted.jobs import Job, Jobs
from sandbox.hosted.migrate import migrate
from sandbox.hosted.packing import pack_pilot
from sandbox.settings import Settings
from tests.pilots import manifest_dict, write_pilot

DAY = timedelta(days=1)
GZIP = {"Content-Type": "application/gzip"}
#: Who calls, by the name the tests use: (principal, organisation, roles, kind).
CALLERS: dict[str, tuple[str, str, list[str], str]] = {
    "data_team": ("nt-data", "northtown", ["data_team"], "service"),
    "reviewer": ("nt-review", "northtown", ["reviewer"], "user"),
    "other_city": ("sv-data", "southville", ["data_team"], "service"),
    "auditor_granted": ("aud-north", "audit-office", ["auditor"], "user"),
    "auditor_not_granted": ("aud-south", "audit-office", ["auditor"], "user"),
    "operator": ("ops-admin", "operators", ["operator"], "user"),
    "worker": ("ops-worker", "operators", ["worker"], "service"),
}
ORGANISATIONS = {
    "northtown": "Northtown",
    "southville": "Southville",
    "audit-office": "Audit Office",
    "operators": "Operators",
}


@dataclass
class World:
    """The app, its state's URL, the settings, every caller's token and what was enqueued."""

    url: str
    settings: Settings
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    token_ids: dict[str, int]
    enqueued: list[Job] = field(default_factory=list)

    def auth(self, caller: str) -> dict[str, str]:
        """The Authorization header of `caller` (a key of CALLERS, or expired, revoked)."""
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    def submit(self, caller: str, body: bytes, **headers: str) -> Any:
        """POST an archive as `caller`, streamed in 64 KiB pieces (chunked)."""
        pieces = (body[i : i + 65536] for i in range(0, max(len(body), 1), 65536))
        return self.client.post(
            "/api/v1/submissions", content=pieces, headers=GZIP | self.auth(caller) | headers
        )

    def jobs(self) -> Jobs:
        return Jobs(self.url)

    def stored(self) -> list[Path]:
        """The archives in the store (incoming and staging leftovers included)."""
        root = self.settings.archives_dir
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def pilot_archive(folder: Path, *, city: str = "Northtown", **data: Any) -> bytes:
    """A packed pilot of `city` (its data section updated with `data`)."""
    manifest = manifest_dict()
    manifest["pilot"]["owner"]["city"] = city
    manifest["data"].update(data)
    return pack_pilot(write_pilot(folder, manifest=manifest)).data


def make_world(
    url: str, home: Path, *, limits: ArchiveLimits | None = None, **settings: Any
) -> World:
    """Register the organisations and callers of CALLERS in `url`, and build the app."""
    migrate(url)
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    with Accounts(url) as accounts:
        for organisation, name in ORGANISATIONS.items():
            accounts.create_organisation(organisation, name)
        for caller, (principal, organisation, roles, kind) in CALLERS.items():
            accounts.create_principal(principal, organisation, caller, roles=roles, kind=kind)
            issued = accounts.issue_token(principal, expires_in=DAY)
            tokens[caller], ids[caller] = issued.token, issued.info.id
        accounts.grant_audit("aud-north", "northtown")
        accounts.grant_audit("aud-south", "southville")
        for spare in ("expired", "revoked", "spare"):  # spare: the reviewer's second token
            holder = "nt-review" if spare == "spare" else "nt-data"
            issued = accounts.issue_token(holder, expires_in=DAY)
            tokens[spare], ids[spare] = issued.token, issued.info.id
        accounts.expire_token("northtown", ids["expired"])
        accounts.revoke_token("northtown", ids["revoked"])
    enqueued: list[Job] = []
    config = Settings(home=home, hosted_url=url, tenant=None, **settings)
    app = create_hosted_app(
        config, enqueue=lambda job, _: enqueued.append(job), limits=limits, migrate_on_start=False
    )
    client = TestClient(app, raise_server_exceptions=False)
    return World(url, config, app, client, tokens, ids, enqueued)


@pytest.fixture
def world(new_schema: Callable[[], str], tmp_path: Path) -> Iterator[World]:
    """A hosted API over a new schema (its trail in another), with the default limits."""
    made = make_world(new_schema(), tmp_path / "home", trail_url=new_schema())
    with made.client:
        yield made
