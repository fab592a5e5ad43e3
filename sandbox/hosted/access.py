"""The access matrix of a hosted sandbox: who may do what, to which organisation's work.

`allowed(principal, action, organisation)` is a pure, total function: any principal, any
action (an unknown one included) and any organisation id give True or False, never an error,
and nothing is looked up. The rules:

- data teams and reviewers act on their own organisation only;
- auditors read and verify only the organisations they are granted (their own included only
  when granted);
- operators run the service (the queue, tokens, principals, organisations) for every
  organisation, and never read a city's runs or make a city's decision (a sign-off);
- workers (the hosts that run queued jobs) fetch any organisation's job archives and do
  nothing else: not read a run, not cancel, not submit;
- a sign-off is a person's decision: a service principal never signs off, whatever its roles.

Roles add up: a principal with two roles may do what either allows.

`owner_of_submission` says whose a submitted pilot is: always the submitting principal's
organisation. `pilot.owner.city` must name that organisation (its registered name, compared
after NFC normalisation, case folding and collapsing spaces); a pilot naming another city is
refused, never filed under the city it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from sandbox.errors import AccessDenied, ManifestError
from sandbox.hosted.identity import Kind, Principal, Role, name_key

__all__ = [
    "AUDITED_ACTIONS",
    "OPERATOR_ACTIONS",
    "OWN_ACTIONS",
    "PEOPLE_ONLY",
    "WORKER_ACTIONS",
    "Action",
    "allowed",
    "owner_of_submission",
]


class Action(StrEnum):
    """Everything a caller can ask of a hosted sandbox, always about one organisation."""

    SUBMIT = "submit"  # send a pilot to run as the organisation
    READ_RUN = "read_run"  # a run's status, reports and records
    CANCEL_JOB = "cancel_job"  # stop a queued or running job
    SIGN_OFF = "sign_off"  # record the organisation's decision on a run
    VERIFY = "verify"  # check the organisation's signed records and evidence bundles
    READ_REGISTER = "read_register"  # the organisation's register of pilots and sign-offs
    READ_QUEUE = "read_queue"  # jobs' state and timing, never their contents
    MANAGE_TOKENS = "manage_tokens"  # issue, list, expire and revoke tokens
    MANAGE_PRINCIPALS = "manage_principals"  # create principals, give roles and audit grants
    MANAGE_ORGANISATIONS = "manage_organisations"  # register organisations
    FETCH_ARCHIVE = "fetch_archive"  # download a queued job's pilot archive to run it


_A = Action
#: What each role may do to its own organisation's work.
OWN_ACTIONS: Final[Mapping[Role, frozenset[Action]]] = {
    Role.DATA_TEAM: frozenset({_A.SUBMIT, _A.READ_RUN, _A.CANCEL_JOB, _A.VERIFY, _A.READ_REGISTER}),
    Role.REVIEWER: frozenset({_A.READ_RUN, _A.SIGN_OFF, _A.VERIFY, _A.READ_REGISTER}),
    Role.AUDITOR: frozenset(),  # an auditor's own organisation is one it must be granted
    Role.OPERATOR: frozenset(),  # operators act through OPERATOR_ACTIONS alone
    Role.WORKER: frozenset(),  # workers act through WORKER_ACTIONS alone
}
#: What an auditor may do to an organisation it is granted.
AUDITED_ACTIONS: Final = frozenset({_A.READ_RUN, _A.VERIFY, _A.READ_REGISTER})
#: What an operator may do to any organisation: operations, never a city's data or decision.
OPERATOR_ACTIONS: Final = frozenset(
    {_A.CANCEL_JOB, _A.READ_QUEUE, _A.MANAGE_TOKENS, _A.MANAGE_PRINCIPALS, _A.MANAGE_ORGANISATIONS}
)
#: What a worker may do to any organisation: fetch the archive of a job it runs.
WORKER_ACTIONS: Final = frozenset({_A.FETCH_ARCHIVE})
#: Actions only a person (kind `user`) may take.
PEOPLE_ONLY: Final = frozenset({_A.SIGN_OFF})


def allowed(principal: Principal, action: Action | str, organisation: str) -> bool:
    """Whether `principal` may take `action` on `organisation`'s work (an organisation id)."""
    try:
        act = Action(action)
    except ValueError:
        return False  # an action this sandbox does not know is allowed to nobody
    if not isinstance(organisation, str) or not organisation:
        return False
    if act in PEOPLE_ONLY and principal.kind is not Kind.USER:
        return False
    own = organisation == principal.organisation
    for role in principal.roles:
        if role == Role.OPERATOR and act in OPERATOR_ACTIONS:
            return True
        if role == Role.WORKER and act in WORKER_ACTIONS:
            return True
        if own and act in OWN_ACTIONS.get(Role(role), frozenset()):
            return True
        if role == Role.AUDITOR and organisation in principal.audits and act in AUDITED_ACTIONS:
            return True
    return False


def owner_of_submission(principal: Principal, manifest_city: str) -> str:
    """The organisation id a pilot submitted by `principal` belongs to.

    It is the principal's own organisation, whatever the manifest says: AccessDenied if the
    principal may not submit, ManifestError if `pilot.owner.city` names another city.
    """
    if not allowed(principal, Action.SUBMIT, principal.organisation):
        raise AccessDenied(
            f"{principal.id} may not submit pilots: submitting needs the {Role.DATA_TEAM} role "
            f"in {principal.organisation}; ask an operator to give it, or use a data team's token"
        )
    if not isinstance(manifest_city, str) or name_key(manifest_city) != name_key(
        principal.organisation_name
    ):
        shown = ascii(manifest_city[:80]) if isinstance(manifest_city, str) else "(none)"
        name = principal.organisation_name
        raise ManifestError(
            f"pilot.yaml: pilot.owner.city is {shown}, but this token submits for {name!r} "
            f"({principal.organisation}); a pilot runs for the organisation that submits it: "
            f"set pilot.owner.city to {name!r}, or submit with a token of the city it names"
        )
    return principal.organisation
