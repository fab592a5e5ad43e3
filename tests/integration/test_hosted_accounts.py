"""Organisations, principals and tokens against a real PostgreSQL started by scripts/postgres.sh.

Every test gets its own schema (`?options=-csearch_path%3D...`), dropped afterwards. Without a
server these tests skip on a laptop and fail under CI=true, like the Docker tests. Time is a
fake clock handed to `Accounts`: expiry is tested by moving it, never by sleeping.
"""

from __future__ import annotations

import multiprocessing
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event

import sandbox.hosted.accounts as accounts_module
from sandbox.errors import AccessDenied, HostedStateError, UserInputError
from sandbox.hosted.access import Action, allowed
from sandbox.hosted.accounts import REFUSED, Accounts
from sandbox.hosted.database import check_url
from sandbox.hosted.identity import Kind, Role
from sandbox.hosted.migrate import VERSION_TABLE, head_revision, migrate
from sandbox.hosted.tables import metadata
from sandbox.hosted.tokens import TokenState

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REVIEWER = ["reviewer"]
TABLES = {"organisations", "principals", "principal_roles", "auditor_grants", "tokens"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def url(new_schema: Callable[[], str]) -> str:
    made = new_schema()
    migrate(made)
    return made


@pytest.fixture
def accounts(url: str, clock: Clock) -> Iterator[Accounts]:
    with Accounts(url, clock=clock) as opened:
        opened.create_organisation("northtown", "Northtown")
        opened.create_organisation("southport", "Southport")
        opened.create_principal("northtown-ci", "northtown", "Northtown CI",
                                roles=[Role.DATA_TEAM], kind=Kind.SERVICE)  # fmt: skip
        opened.create_principal("ana", "northtown", "Ana Lopez", roles=["reviewer", "data_team"])
        opened.create_principal("southport-ci", "southport", "Southport CI", roles=["data_team"])
        yield opened


def _schema_of(url: str) -> str:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT current_schema()").fetchone()
    assert found is not None
    return str(found[0])


def _rows_as_text(url: str) -> str:
    """Every row of every table in the URL's schema, as JSON text."""
    with psycopg.connect(url) as conn:
        schema = _schema_of(url)
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        dumped = [
            str(row[0])
            for name in names
            for row in conn.execute(f'SELECT row_to_json(t)::text FROM "{name}" t'.encode())
        ]
    return "\n".join(dumped)


# --- migrations ---------------------------------------------------------------------------


def test_migrate_creates_the_tables_once_and_again_changes_nothing(
    new_schema: Callable[[], str],
) -> None:
    url = new_schema()
    assert migrate(url) == head_revision()
    first = _rows_as_text(url)
    assert migrate(url) == head_revision()
    assert _rows_as_text(url) == first
    with psycopg.connect(url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (_schema_of(url),),
            )
        }
        versions = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}".encode()).fetchall()
    assert tables >= TABLES | {VERSION_TABLE}  # later revisions add their own tables
    assert versions == [(head_revision(),)]


def test_the_migrated_tables_are_the_tables_the_code_uses(url: str) -> None:
    engine = create_engine(check_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []


def _start_up(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=120)  # every process has imported everything: they migrate together
    results.put(migrate(url))


def test_concurrent_start_ups_migrate_once(new_schema: Callable[[], str]) -> None:
    url = new_schema()
    context = multiprocessing.get_context("spawn")
    processes = 4
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_start_up, args=(url, barrier, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0] * processes
    head = head_revision()
    assert sorted(results.get(timeout=10) for _ in range(processes)) == [head] * processes
    with psycopg.connect(url) as conn:
        versions = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}".encode()).fetchall()
    assert versions == [(head,)]


def test_a_database_from_a_newer_sandbox_is_refused(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'".encode())
    with pytest.raises(HostedStateError, match="revision 0099, which this sandbox does not know"):
        migrate(url)


def test_a_search_path_naming_no_schema_is_refused(pg_url: str) -> None:
    url = f"{pg_url}?options={quote('-csearch_path=no_such_schema_here', safe='')}"
    with pytest.raises(HostedStateError, match="no schema to create the hosted tables in"):
        migrate(url)


# --- organisations and principals ---------------------------------------------------------


def test_organisations_and_principals_round_trip(accounts: Accounts, clock: Clock) -> None:
    assert accounts.organisation("northtown").name == "Northtown"
    assert accounts.organisation("northtown").created == START
    ana = accounts.principal("ana")
    assert (ana.organisation, ana.organisation_name, ana.kind) == ("northtown", "Northtown", "user")
    assert ana.roles == {Role.REVIEWER, Role.DATA_TEAM}
    accounts.create_principal("audit-office", "southport", "State audit office", roles=["auditor"])
    granted = accounts.grant_audit("audit-office", "northtown")
    assert granted.audits == {"northtown"}
    assert accounts.grant_audit("audit-office", "northtown").audits == {"northtown"}  # once
    assert allowed(granted, Action.READ_RUN, "northtown")
    assert not allowed(granted, Action.READ_RUN, "southport")  # its own: not granted


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda a: a.create_organisation("northtown", "Other"), "organisation id 'northtown' is"),
        (lambda a: a.create_organisation("nt", "Northtown"), "organisation id: 'nt' is not"),
        (lambda a: a.create_organisation("north-town", "NORTHTOWN "), "organisation name"),
        (lambda a: a.create_organisation("north-town", "  NorthTown"), "organisation name"),
        (lambda a: a.create_organisation("nt-2", "NORTHTOWN"), "'NORTHTOWN' is already registered"),
        (lambda a: a.create_organisation("nt-3", "North\u200btown"), "organisation name"),
        (lambda a: a.create_organisation("admin", "Admins"), "'admin' is a reserved word"),
        (lambda a: a.create_organisation("x" * 5000, "Big"), "is not a valid id"),
        (lambda a: a.create_organisation("eastvale", "<b>East</b>"), "organisation name"),
        (lambda a: a.create_organisation("eastvale", "unknown"), "reserved name"),
        (lambda a: a.create_principal("ana", "northtown", "Ana", roles=["reviewer"]), "taken"),
        (lambda a: a.create_principal("bob", "eastvale", "Bo", roles=REVIEWER), "not registered"),
        (lambda a: a.create_principal("bob", "northtown", "Bo", roles=["admin"]), "unknown role"),
        (lambda a: a.create_principal("bob", "northtown", "Bo", roles=[]), "roles: none given"),
        (lambda a: a.create_principal("bob", "northtown", "Bo", roles=REVIEWER * 9), "more than"),
        (lambda a: a.create_principal("bob", "northtown", "Bo", roles="x", kind="robot"), "kind:"),
        (lambda a: a.create_principal("bob", "northtown", "B\x1b[2J", roles="reviewer"), "control"),
        (lambda a: a.grant_audit("ana", "southport"), "does not have the auditor role"),
        (lambda a: a.principal("nobody"), "principal: 'nobody' is not registered"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_naming_the_field(
    accounts: Accounts, call: Callable[[Accounts], object], expected: str
) -> None:
    with pytest.raises(UserInputError) as caught:
        call(accounts)
    assert expected in str(caught.value)
    assert len(str(caught.value)) < 400


# --- tokens -------------------------------------------------------------------------------


def test_tokens_are_issued_listed_expired_and_revoked(accounts: Accounts, clock: Clock) -> None:
    first = accounts.issue_token("northtown-ci", expires_in=timedelta(days=30))
    second = accounts.issue_token("ana", expires_in=timedelta(days=1))
    theirs = accounts.issue_token("southport-ci", expires_in=timedelta(days=1))
    assert first.token.startswith(f"sbx_{first.info.prefix}_") and len(first.token) == 60
    assert first.token not in repr(first) and first.token not in repr(first.info)
    listed = accounts.list_tokens("northtown")
    assert [t.id for t in listed] == [first.info.id, second.info.id]
    assert [t.state for t in listed] == [TokenState.ACTIVE, TokenState.ACTIVE]
    assert listed[0].expires == START + timedelta(days=30) and listed[0].last_used is None
    assert [t.id for t in accounts.list_tokens("southport")] == [theirs.info.id]

    assert accounts.authenticate(first.token).id == "northtown-ci"
    assert accounts.list_tokens("northtown")[0].last_used == START
    clock.now += timedelta(seconds=30)
    accounts.authenticate(first.token)  # within the minute: not written again
    assert accounts.list_tokens("northtown")[0].last_used == START

    expired = accounts.expire_token("northtown", second.info.id)
    assert (expired.state, expired.expires) == (TokenState.EXPIRED, clock.now)
    clock.now += timedelta(hours=1)
    assert accounts.expire_token("northtown", second.info.id).expires == expired.expires
    revoked = accounts.revoke_token("northtown", first.info.id)
    assert (revoked.state, revoked.revoked) == (TokenState.REVOKED, clock.now)
    clock.now += timedelta(hours=1)
    assert accounts.revoke_token("northtown", first.info.id).revoked == revoked.revoked
    for gone in (first, second):
        with pytest.raises(AccessDenied, match=f"^{REFUSED}$"):
            accounts.authenticate(gone.token)
    assert accounts.authenticate(theirs.token).organisation == "southport"


def test_a_token_expires_when_its_time_comes(accounts: Accounts, clock: Clock) -> None:
    issued = accounts.issue_token("ana", expires_in=timedelta(hours=2))
    clock.now += timedelta(hours=2) - timedelta(microseconds=1)
    assert accounts.authenticate(issued.token).id == "ana"
    clock.now += timedelta(microseconds=1)
    with pytest.raises(AccessDenied):
        accounts.authenticate(issued.token)
    assert accounts.list_tokens("northtown")[0].state is TokenState.EXPIRED


def test_another_organisations_token_is_as_unknown_as_a_missing_one(accounts: Accounts) -> None:
    theirs = accounts.issue_token("southport-ci", expires_in=timedelta(days=1))
    messages = []
    for token_id in (theirs.info.id, theirs.info.id + 1000):
        for end in (accounts.revoke_token, accounts.expire_token):
            with pytest.raises(UserInputError) as caught:
                end("northtown", token_id)
            messages.append(str(caught.value).replace(str(token_id), "N"))
    assert len(set(messages)) == 1 and "no such token in northtown" in messages[0]
    assert accounts.authenticate(theirs.token).id == "southport-ci"  # untouched


@pytest.mark.parametrize(
    "expires_in",
    [None, timedelta(0), timedelta(seconds=-1), timedelta(days=365, seconds=1), 3600, "30d"],
)
def test_every_token_expires_within_a_year(accounts: Accounts, expires_in: object) -> None:
    with pytest.raises(UserInputError, match="expires_in: .* at most 365 days"):
        accounts.issue_token("ana", expires_in=expires_in)  # type: ignore[arg-type]


@pytest.mark.parametrize("token_id", [0, -1, True, "1", 2**70, 1.0])
def test_token_ids_are_checked(accounts: Accounts, token_id: object) -> None:
    with pytest.raises(UserInputError, match="token id: .* is not a token id"):
        accounts.revoke_token("northtown", token_id)  # type: ignore[arg-type]


def test_secrets_are_never_stored(accounts: Accounts, url: str) -> None:
    issued = [
        accounts.issue_token(who, expires_in=timedelta(days=7))
        for who in ("ana", "northtown-ci", "southport-ci")
    ]
    for one in issued:
        accounts.authenticate(one.token)
    stored = _rows_as_text(url)
    for one in issued:
        secret = one.token.split("_", 2)[2]
        assert one.info.prefix in stored  # the listing's handle is kept...
        assert secret not in stored and secret.encode().hex() not in stored  # ...the secret not
        assert secret[:16] not in stored


# --- authentication: one answer, one path -------------------------------------------------


def _trace(accounts: Accounts, token: str) -> tuple[list[tuple[str, int]], list[str], str]:
    """The lines of sandbox/hosted run, the SQL sent, and the error, while `token` is refused."""
    lines: list[tuple[str, int]] = []
    statements: list[str] = []
    hosted = str(ROOT / "sandbox" / "hosted")

    def tracer(frame: FrameType, what: str, _arg: object) -> Any:
        if frame.f_code.co_filename.startswith(hosted):
            if what == "line":
                lines.append((Path(frame.f_code.co_filename).name, frame.f_lineno))
            return tracer
        return None

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = accounts._engine
    event.listen(engine, "before_cursor_execute", record)
    sys.settrace(tracer)
    try:
        accounts.authenticate(token)
    except AccessDenied as exc:
        message = str(exc)
    else:
        message = "accepted"
    finally:
        sys.settrace(None)
        event.remove(engine, "before_cursor_execute", record)
    return lines, statements, message


def test_every_bad_token_takes_the_same_path_to_the_same_answer(
    accounts: Accounts, clock: Clock
) -> None:
    expired = accounts.issue_token("ana", expires_in=timedelta(minutes=5))
    revoked = accounts.issue_token("ana", expires_in=timedelta(days=5))
    accounts.revoke_token("northtown", revoked.info.id)
    good = accounts.issue_token("ana", expires_in=timedelta(days=5))
    clock.now += timedelta(minutes=10)
    prefix = good.info.prefix
    bad = {
        "unknown": f"sbx_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}",
        "wrong secret": f"sbx_{prefix}_{secrets.token_urlsafe(32)}",
        "expired": expired.token,
        "revoked": revoked.token,
        "malformed": "sbx_nothing",
        "empty": "",
        "huge": "sbx_" + "a" * 1_000_000,
        "single-machine token": "sbx_" + secrets.token_urlsafe(32),
    }
    accounts.authenticate(good.token)  # the pool holds a connection: every trace starts alike
    traces = {reason: _trace(accounts, token) for reason, token in bad.items()}
    lines, statements, message = traces["unknown"]
    assert message == REFUSED
    for reason, trace in traces.items():
        assert trace == (lines, statements, message), reason
    assert len(statements) == 1  # one lookup; the refusal writes nothing
    # A valid token runs the same lines up to the decision, then records its use.
    source = Path(accounts_module.__file__).read_text(encoding="utf-8").splitlines()
    decision = ("accounts.py", source.index("            if not valid:") + 1)
    shared = lines.index(decision) + 1
    ok_lines, ok_statements, ok = _trace(accounts, good.token)
    assert ok == "accepted" and ok_lines[:shared] == lines[:shared]
    assert ok_statements == statements  # its use was recorded under a minute ago


def test_authenticate_reads_roles_and_grants(accounts: Accounts) -> None:
    accounts.create_principal("auditor", "southport", "An auditor", roles=["auditor"])
    accounts.grant_audit("auditor", "northtown")
    issued = accounts.issue_token("auditor", expires_in=timedelta(days=1))
    who = accounts.authenticate(issued.token)
    assert (who.roles, who.audits, who.kind) == (
        frozenset({Role.AUDITOR}),
        frozenset({"northtown"}),
        Kind.USER,
    )


# --- the server -----------------------------------------------------------------------------


def _with_password(pg_url: str, password: str) -> str:
    parts = urlsplit(pg_url)
    netloc = f"{parts.username}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_a_wrong_password_is_one_line_without_it(pg_url: str) -> None:
    password = "wrong-" + secrets.token_hex(8)
    with pytest.raises(HostedStateError) as caught:
        migrate(_with_password(pg_url, password))
    message = str(caught.value)
    assert password not in message and ":***@" in message
    assert "cannot migrate the hosted tables" in message and "\n" not in message
    assert "bash scripts/postgres.sh" in message


def test_a_server_that_hangs_up_is_one_line_without_the_password() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def hang_up() -> None:
        for _ in range(4):  # libpq may try twice (with and without TLS)
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    password = "p@ss/" + secrets.token_hex(8)
    url = f"postgresql://sandbox:{quote(password, safe='')}@127.0.0.1:{port}/sandbox"
    try:
        with pytest.raises(HostedStateError) as caught, Accounts(url) as accounts:
            accounts.authenticate("sbx_x")
    finally:
        listener.close()
    message = str(caught.value)
    assert password not in message and quote(password, safe="") not in message
    assert message.startswith(f"postgresql://sandbox:***@127.0.0.1:{port}/sandbox: cannot")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "SANDBOX_HOSTED_URL: empty"),
        ("mysql://u:secret@h/db", "is not a PostgreSQL URL"),
        ("postgresql://u:secret@/db", "names no host"),
        ("x" * 5000, "longer than 4096"),
        ("postgresql://u:secret@h:99999999/db", "has no valid port"),
        ("postgresql://u:secret@h:port/db", "SANDBOX_HOSTED_URL: not a URL"),
    ],
)
def test_bad_urls_are_refused_before_any_connection(value: str, expected: str) -> None:
    with pytest.raises(UserInputError) as caught:
        Accounts(value)
    assert expected in str(caught.value) and "secret" not in str(caught.value)
