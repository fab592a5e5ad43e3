"""`sandbox server ...`: run and administer a hosted sandbox, on its PostgreSQL database.

    migrate                              create or upgrade the hosted tables
    serve [--host] [--port] [--workers]  the hosted API (uvicorn), after migrating
    org add ID NAME                      register an organisation
    principal add ID --org ORG --role R  register a person (or, with --service, a program)
    grant AUDITOR ORG                    let an auditor read and verify an organisation
    token issue PRINCIPAL --days N       a new token, printed once, alone, on stdout
    token list ORG / revoke ORG ID / expire ORG ID

These commands act on the database named by SANDBOX_HOSTED_URL directly, as whoever may
reach it: they are the operator's, on the operator's machine. Everything else goes through
the API and its tokens.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import console, errors
from sandbox.errors import UserInputError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sandbox.hosted.accounts import Accounts

__all__ = ["app", "hosted_app"]

app = typer.Typer(help="Run and administer a hosted sandbox.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations: the cities, auditors and operators.")
principal_app = typer.Typer(help="Principals: the people and programs that hold tokens.")
token_app = typer.Typer(help="Issue, list, revoke and expire tokens.")
app.add_typer(org_app, name="org", no_args_is_help=True)
app.add_typer(principal_app, name="principal", no_args_is_help=True)
app.add_typer(token_app, name="token", no_args_is_help=True)

ExistOk = Annotated[
    bool, typer.Option("--exist-ok", help="Succeed if it is already registered as given.")
]


def _hosted_url() -> str:
    from sandbox.settings import Settings

    url = Settings().hosted_url
    if not url:
        raise UserInputError(
            "SANDBOX_HOSTED_URL is not set; set it to the hosted database, "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (`bash scripts/postgres.sh` prints "
            "one; `bash scripts/hosted.sh` writes it into its hosted.env)"
        )
    return url


def _accounts() -> Accounts:
    from sandbox.hosted.accounts import Accounts

    return Accounts(_hosted_url())


@app.command("migrate")
def migrate() -> None:
    """Create or upgrade the hosted tables (safe to run at every start, from many processes)."""
    from sandbox.hosted import migrate as migrations

    revision = migrations.migrate(_hosted_url())
    console.print(f"hosted tables at revision {escape(revision)}", highlight=False)


def hosted_app() -> FastAPI:
    """The hosted API on the environment's settings (uvicorn's factory, one per process)."""
    from sandbox.api.hosted import create_hosted_app
    from sandbox.settings import Settings

    return create_hosted_app(Settings())


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8600,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS certificate chain (PEM): serve https.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's key (PEM).")] = None,
) -> None:
    """Serve the hosted API: submissions, jobs, archives for workers, tokens."""
    import uvicorn

    from sandbox.hosted import migrate as migrations

    if (tls_cert is None) != (tls_key is None):
        raise UserInputError("--tls-cert and --tls-key go together; give both, or neither")
    migrations.migrate(_hosted_url())
    if tls_cert is None and not _loopback(host):
        errors.print(
            f"[yellow]warning:[/] plain http on {escape(host)}: clients send tokens over https "
            "only (plain http to loopback alone); give --tls-cert/--tls-key or put a TLS proxy "
            "in front",
            highlight=False,
        )
    uvicorn.run(
        "sandbox.cli.server:hosted_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@org_app.command("add")
def org_add(
    organisation: Annotated[str, typer.Argument(metavar="ID", help="A slug: northtown.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="As pilots write pilot.owner.city.")],
    exist_ok: ExistOk = False,
) -> None:
    """Register an organisation: an id (a slug) and the name its pilots use."""
    with _accounts() as accounts:
        try:
            made = accounts.create_organisation(organisation, name)
        except UserInputError:
            if not exist_ok or not _same_organisation(accounts, organisation, name):
                raise
            console.print(f"organisation {escape(organisation)} already registered")
            return
    console.print(f"organisation {escape(made.id)} ({escape(made.name)}) registered")


def _same_organisation(accounts: Accounts, organisation: str, name: str) -> bool:
    try:
        return accounts.organisation(organisation).name == name
    except UserInputError:
        return False


@principal_app.command("add")
def principal_add(
    principal: Annotated[str, typer.Argument(metavar="ID", help="An id: northtown-ci.")],
    organisation: Annotated[str, typer.Option("--org", help="Its organisation's id.")],
    role: Annotated[
        list[str],
        typer.Option(help="data_team, reviewer, auditor, operator (repeat for several)."),
    ],
    name: Annotated[str, typer.Option(help="The name shown on its records.")],
    service: Annotated[
        bool, typer.Option("--service", help="A program (a city's CI, a worker), not a person.")
    ] = False,
    exist_ok: ExistOk = False,
) -> None:
    """Register a person (or a program) of an organisation, with its roles."""
    kind = "service" if service else "user"
    with _accounts() as accounts:
        try:
            made = accounts.create_principal(principal, organisation, name, roles=role, kind=kind)
        except UserInputError:
            if not exist_ok or not _same_principal(accounts, principal, organisation, role):
                raise
            console.print(f"principal {escape(principal)} already registered")
            return
    roles = ", ".join(sorted(made.roles))
    console.print(
        f"principal {escape(made.id)} ({made.kind}) of {escape(made.organisation)}: {roles}",
        highlight=False,
    )


def _same_principal(
    accounts: Accounts, principal: str, organisation: str, roles: list[str]
) -> bool:
    try:
        found = accounts.principal(principal)
    except UserInputError:
        return False
    return found.organisation == organisation and set(found.roles) == set(roles)


@app.command("grant")
def grant(
    auditor: Annotated[str, typer.Argument(help="A principal with the auditor role.")],
    organisation: Annotated[str, typer.Argument(metavar="ORG", help="The organisation's id.")],
) -> None:
    """Let AUDITOR read and verify ORG's runs."""
    with _accounts() as accounts:
        found = accounts.grant_audit(auditor, organisation)
    console.print(
        f"{escape(found.id)} audits {escape(', '.join(sorted(found.audits)))}", highlight=False
    )


@token_app.command("issue")
def token_issue(
    principal: Annotated[str, typer.Argument(help="Whose token it is.")],
    days: Annotated[int, typer.Option(min=1, max=365, help="Days until it expires.")],
) -> None:
    """A new token: printed once, alone on stdout (pipe it into a 0600 file); never stored."""
    from datetime import timedelta

    with _accounts() as accounts:
        issued = accounts.issue_token(principal, expires_in=timedelta(days=days))
    info = issued.info
    errors.print(
        f"token {info.id} ({info.shown}) for {escape(info.principal)} of "
        f"{escape(info.organisation)}, expires {info.expires.isoformat(timespec='seconds')}; "
        "shown once",
        highlight=False,
        soft_wrap=True,
    )
    print(issued.token, flush=True)  # plain: no styling, no wrapping


@token_app.command("list")
def token_list(
    organisation: Annotated[str, typer.Argument(metavar="ORG", help="The organisation's id.")],
) -> None:
    """The organisation's tokens: id, principal, prefix, state, expiry, last use."""
    with _accounts() as accounts:
        listed = accounts.list_tokens(organisation)
    if not listed:
        console.print(f"no tokens for {escape(organisation)}")
    for info in listed:
        used = info.last_used.isoformat(timespec="seconds") if info.last_used else "never"
        console.print(
            f"{info.id:>5}  {info.shown}  {escape(info.principal)}  {info.state}  expires "
            f"{info.expires.isoformat(timespec='seconds')}  last used {used}",
            highlight=False,
            soft_wrap=True,
        )


TokenIdArg = Annotated[int, typer.Argument(metavar="ID", help="The token's id (token list).")]
OrgArg = Annotated[str, typer.Argument(metavar="ORG", help="The token's organisation.")]


@token_app.command("revoke")
def token_revoke(organisation: OrgArg, token_id: TokenIdArg) -> None:
    """Revoke a token: refused from its next call on."""
    with _accounts() as accounts:
        info = accounts.revoke_token(organisation, token_id)
    console.print(f"token {info.id} ({info.shown}): {info.state}", highlight=False)


@token_app.command("expire")
def token_expire(organisation: OrgArg, token_id: TokenIdArg) -> None:
    """Expire a token now (as revoke, but recorded as an expiry)."""
    with _accounts() as accounts:
        info = accounts.expire_token(organisation, token_id)
    console.print(f"token {info.id} ({info.shown}): {info.state}", highlight=False)
