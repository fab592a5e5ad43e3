"""The access matrix: every role, action and organisation, and the rules as properties.

The table below is the specification, written out independently of `sandbox.hosted.access`;
docs/hosted.md shows the same table (a test keeps the two equal).
"""

from __future__ import annotations

import unicodedata
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import AccessDenied, ManifestError
from sandbox.hosted.access import OPERATOR_ACTIONS, Action, allowed, owner_of_submission
from sandbox.hosted.identity import Kind, Principal, Role

DOCS = Path(__file__).resolve().parents[3] / "docs" / "hosted.md"

# own: its own organisation; granted: organisations it is granted as an auditor;
# any: every organisation; -: none. sign_off is further limited to people (kind user).
MATRIX = """
| action               | data_team | reviewer | auditor | operator | worker |
| submit               | own       | -        | -       | -        | -      |
| read_run             | own       | own      | granted | -        | -      |
| cancel_job           | own       | -        | -       | any      | -      |
| sign_off             | -         | own      | -       | -        | -      |
| verify               | own       | own      | granted | -        | -      |
| read_register        | own       | own      | granted | -        | -      |
| read_queue           | -         | -        | -       | any      | -      |
| manage_tokens        | -         | -        | -       | any      | -      |
| manage_principals    | -         | -        | -       | any      | -      |
| manage_organisations | -         | -        | -       | any      | -      |
| fetch_archive        | -         | -        | -       | -        | any    |
"""
ROLES = [Role.DATA_TEAM, Role.REVIEWER, Role.AUDITOR, Role.OPERATOR, Role.WORKER]
# Where the organisation acted on stands to the principal (own = northtown).
SCOPES = {
    "own": ("northtown", frozenset()),
    "other": ("southport", frozenset()),
    "granted other": ("southport", frozenset({"southport"})),
    "own, granted": ("northtown", frozenset({"northtown"})),
    "other, another granted": ("southport", frozenset({"eastvale"})),
}
CITY = {"northtown": "Northtown", "southport": "Southport", "eastvale": "Eastvale"}


def _table(text: str) -> dict[tuple[str, str], str]:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.strip().splitlines()
        if line.strip().startswith("|") and not set(line) <= set("|-: ")
    ]
    header, *body = rows
    return {
        (row[0].strip("`"), role): row[i + 1] for row in body for i, role in enumerate(header[1:])
    }


SPEC = _table(MATRIX)


def principal(
    roles: frozenset[Role] | set[Role],
    *,
    kind: Kind = Kind.USER,
    organisation: str = "northtown",
    audits: frozenset[str] = frozenset(),
) -> Principal:
    return Principal(
        id="p-1",
        organisation=organisation,
        organisation_name=CITY.get(organisation, organisation.title()),
        display_name="Someone",
        kind=kind,
        roles=frozenset(roles),
        audits=audits,
    )


def _expected(cell: str, scope: str, action: Action, kind: Kind) -> bool:
    if action is Action.SIGN_OFF and kind is not Kind.USER:
        return False
    return {
        "-": False,
        "any": True,
        "own": scope in {"own", "own, granted"},
        "granted": scope in {"granted other", "own, granted"},
    }[cell]


def test_the_spec_covers_every_action_and_role() -> None:
    assert {action for action, _ in SPEC} == {a.value for a in Action}
    assert {role for _, role in SPEC} == {r.value for r in Role}


@pytest.mark.parametrize(
    ("role", "action", "scope", "kind"),
    list(product(ROLES, list(Action), list(SCOPES), list(Kind))),
    ids=lambda v: str(v),
)
def test_the_matrix(role: Role, action: Action, scope: str, kind: Kind) -> None:
    organisation, audits = SCOPES[scope]
    who = principal({role}, kind=kind, audits=audits)
    expected = _expected(SPEC[(action.value, role.value)], scope, action, kind)
    assert allowed(who, action, organisation) is expected
    assert allowed(who, action.value, organisation) is expected  # the plain string too


def test_the_docs_show_the_same_matrix() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### The access matrix", 1)[1].split("\n### ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
    header = "| action | data_team | reviewer | auditor | operator | worker |\n"
    assert _table(header + table) == SPEC


@pytest.mark.parametrize("action", ["", "delete_everything", "SUBMIT", "submit ", "read_run\0"])
def test_an_unknown_action_is_allowed_to_nobody(action: str) -> None:
    everyone = principal(set(ROLES), audits=frozenset({"northtown"}))
    assert allowed(everyone, action, "northtown") is False


def test_no_organisation_is_allowed_nothing() -> None:
    everyone = principal(set(ROLES), audits=frozenset({""}))
    assert not any(allowed(everyone, action, "") for action in Action)


def test_operators_never_read_a_citys_runs_or_decide() -> None:
    operator = principal({Role.OPERATOR}, organisation="sandbox-ops")
    for org in ("northtown", "sandbox-ops"):
        for action in (Action.SUBMIT, Action.READ_RUN, Action.SIGN_OFF, Action.VERIFY):
            assert not allowed(operator, action, org)


# --- properties ---------------------------------------------------------------------------

ORGS = st.sampled_from(["northtown", "southport", "eastvale", "sandbox-ops"])
PRINCIPALS = st.builds(
    principal,
    st.frozensets(st.sampled_from(ROLES)),
    kind=st.sampled_from(list(Kind)),
    organisation=ORGS,
    audits=st.frozensets(ORGS),
)
ACTIONS = st.one_of(st.sampled_from(list(Action)), st.text(max_size=30))


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(PRINCIPALS, ACTIONS, st.one_of(ORGS, st.text(max_size=40)))
def test_another_organisation_is_reached_only_by_a_granted_auditor_an_operator_or_a_worker(
    who: Principal, action: str, organisation: str
) -> None:
    if not allowed(who, action, organisation) or organisation == who.organisation:
        return
    act = Action(action)
    as_auditor = Role.AUDITOR in who.roles and organisation in who.audits
    as_operator = Role.OPERATOR in who.roles and act in OPERATOR_ACTIONS
    as_worker = Role.WORKER in who.roles and act is Action.FETCH_ARCHIVE
    assert (
        as_operator
        or as_worker
        or (as_auditor and act in {Action.READ_RUN, Action.VERIFY, Action.READ_REGISTER})
    )


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(PRINCIPALS, ACTIONS, ORGS)
def test_roles_add_up_and_nothing_else(who: Principal, action: str, organisation: str) -> None:
    alone = [
        allowed(principal({role}, kind=who.kind, organisation=who.organisation, audits=who.audits),
                action, organisation)
        for role in who.roles
    ]  # fmt: skip
    assert allowed(who, action, organisation) is any(alone)


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(PRINCIPALS, ORGS)
def test_a_service_never_signs_off(who: Principal, organisation: str) -> None:
    service = principal(who.roles, kind=Kind.SERVICE, organisation=who.organisation,
                        audits=who.audits)  # fmt: skip
    assert not allowed(service, Action.SIGN_OFF, organisation)


# --- whose a submitted pilot is -----------------------------------------------------------


@pytest.mark.parametrize(
    "city",
    [
        "Northtown",
        "northtown",
        "NORTHTOWN",
        "  Northtown ",
        unicodedata.normalize("NFD", "Northtown"),
    ],
)
def test_a_pilot_is_its_submitters_organisations(city: str) -> None:
    assert owner_of_submission(principal({Role.DATA_TEAM}), city) == "northtown"


def test_names_are_compared_as_unicode_text() -> None:
    who = principal({Role.DATA_TEAM}, organisation="sao-paulo")
    who = Principal(**{**who.__dict__, "organisation_name": "São Paulo"})
    assert owner_of_submission(who, unicodedata.normalize("NFD", "são  paulo")) == "sao-paulo"


@pytest.mark.parametrize(
    "city", ["Southport", "Northtown City", "", "North town", "northtown"[:-1]]
)
def test_a_pilot_naming_another_city_is_refused(city: str) -> None:
    with pytest.raises(ManifestError) as caught:
        owner_of_submission(principal({Role.DATA_TEAM}), city)
    message = str(caught.value)
    assert message.startswith("pilot.yaml: pilot.owner.city is ")
    assert "'Northtown' (northtown)" in message
    assert "set pilot.owner.city to 'Northtown'" in message


def test_a_refusal_quotes_a_hostile_city_bounded_and_escaped() -> None:
    with pytest.raises(ManifestError) as caught:
        owner_of_submission(principal({Role.DATA_TEAM}), "\x1b[31mSouthport" + "x" * 10_000)
    message = str(caught.value)
    assert "\x1b" not in message and "\\x1b[31mSouthport" in message
    assert len(message) < 400


@pytest.mark.parametrize(
    "roles",
    [set(), {Role.REVIEWER}, {Role.AUDITOR}, {Role.OPERATOR}, {Role.REVIEWER, Role.OPERATOR}],
)
def test_only_a_data_team_submits(roles: set[Role]) -> None:
    with pytest.raises(AccessDenied, match="submitting needs the data_team role in northtown"):
        owner_of_submission(principal(roles, audits=frozenset({"northtown"})), "Northtown")


def test_a_service_data_team_submits() -> None:
    ci = principal({Role.DATA_TEAM}, kind=Kind.SERVICE)
    assert owner_of_submission(ci, "Northtown") == "northtown"
