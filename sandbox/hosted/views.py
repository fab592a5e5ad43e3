"""What a hosted server answers, as the client reads it: jobs, pre-run verdicts, submissions.

The server is trusted to run pilots, not to write well-formed JSON: every field is checked for
its type and bounded in length before a command prints it, so a broken or hostile server gives
one error line, never a traceback or a screenful. Job states and verdicts are compared as
strings, so this module needs neither the database code of `jobs.py` nor the run pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sandbox.errors import SandboxError

__all__ = [
    "TERMINAL_STATES",
    "BadResponse",
    "JobView",
    "PreRun",
    "RuleView",
    "Submission",
    "verdict_exit_code",
]

#: States a job never leaves.
TERMINAL_STATES: Final = frozenset({"finished", "cancelled", "lost"})
_MAX_TEXT: Final = 2000  # a message or an error; longer is cut, not refused
_MAX_ID: Final = 200
_MAX_LISTED: Final = 10_000
# A run's verdict, spelt as a run's status (`pass`) or as a past tense (`passed`).
_PROCEED: Final = frozenset({"pass", "passed", "pass_with_warnings", "passed_with_warnings"})
_STOP: Final = frozenset({"fail", "failed", "blocked"})


class BadResponse(SandboxError):
    """The server answered with something that is not what the API promises (exit code 1)."""


def _text(
    data: dict[str, Any],
    key: str,
    *,
    limit: int = _MAX_ID,
    cut: bool = False,
    optional: bool = False,
) -> Any:
    """A text field; a message over `limit` is cut (`cut`), any other field refused."""
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"the server's answer has no text field {key!r}")
    if len(value) > limit:
        if not cut:
            raise BadResponse(f"the server's answer has a field {key!r} over {limit} characters")
        return value[:limit] + "…"
    return value


def _time(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = _text(data, key, limit=64, optional=optional)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadResponse(f"the server's answer has {key!r} not in ISO 8601") from None


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"the server's answer has no {what} object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > _MAX_LISTED:
        raise BadResponse(f"the server's answer has no list of {what} (at most {_MAX_LISTED})")
    return value


@dataclass(frozen=True)
class JobView:
    """A job as the API shows it (JobOut)."""

    id: str
    organisation: str
    principal: str
    archive_sha256: str
    pilot: str
    state: str
    attempts: int
    run_id: str | None
    verdict: str | None
    error: str | None
    cancel_requested: bool
    worker: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None

    @property
    def terminal(self) -> bool:
        """True once the job can change no more."""
        return self.state in TERMINAL_STATES

    @classmethod
    def parse(cls, value: object) -> JobView:
        """A JobOut object, checked; BadResponse if it is not one."""
        data = _object(value, "job")
        attempts = data.get("attempts")
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
            raise BadResponse("the server's answer has no job 'attempts' count")
        cancel = data.get("cancel_requested", False)
        if not isinstance(cancel, bool):
            raise BadResponse("the server's answer has a non-boolean 'cancel_requested'")
        principal = "principal_id" if "principal_id" in data else "principal"
        return cls(
            id=_text(data, "id"),
            organisation=_text(data, "organisation"),
            principal=_text(data, principal),
            archive_sha256=_text(data, "archive_sha256"),
            pilot=_text(data, "pilot"),
            state=_text(data, "state"),
            attempts=attempts,
            run_id=_text(data, "run_id", optional=True),
            verdict=_text(data, "verdict", optional=True),
            error=_text(data, "error", limit=_MAX_TEXT, cut=True, optional=True),
            cancel_requested=cancel,
            worker=_text(data, "worker", optional=True),
            created=_time(data, "created"),
            started=_time(data, "started", optional=True),
            finished=_time(data, "finished", optional=True),
        )

    @classmethod
    def parse_list(cls, value: object) -> list[JobView]:
        """A list of JobOut objects, checked."""
        return [cls.parse(item) for item in _list(value, "jobs")]


@dataclass(frozen=True)
class RuleView:
    """One pre-run rule's outcome."""

    rule_id: str
    outcome: str
    severity: str
    message: str


@dataclass(frozen=True)
class PreRun:
    """The pre-run policies' verdict on a submitted pilot (PreRunOut)."""

    status: str  # passed, warned or blocked
    packs: tuple[str, ...]
    outcomes: tuple[RuleView, ...]

    @classmethod
    def parse(cls, value: object) -> PreRun:
        """A PreRunOut object, checked."""
        data = _object(value, "pre_run")
        packs = _list(data.get("packs"), "packs")
        if not all(isinstance(pack, str) and len(pack) <= _MAX_ID for pack in packs):
            raise BadResponse("the server's answer has a pack id that is not short text")
        outcomes = []
        for item in _list(data.get("outcomes"), "outcomes"):
            rule = _object(item, "outcome")
            outcomes.append(
                RuleView(
                    rule_id=_text(rule, "rule_id"),
                    outcome=_text(rule, "outcome"),
                    severity=_text(rule, "severity"),
                    message=_text(rule, "message", limit=_MAX_TEXT, cut=True),
                )
            )
        return cls(status=_text(data, "status"), packs=tuple(packs), outcomes=tuple(outcomes))


@dataclass(frozen=True)
class Submission:
    """The answer to an upload: queued with a job, or blocked at the door without one."""

    status: str  # queued or blocked
    archive_sha256: str
    job: JobView | None
    pre_run: PreRun

    @classmethod
    def parse(cls, value: object) -> Submission:
        """The submission answer, checked: a queued one has a job, a blocked one none."""
        data = _object(value, "submission")
        status = _text(data, "status")
        if status not in {"queued", "blocked"}:
            raise BadResponse(f"the server's answer has submission status {status[:40]!r}")
        job = None if data.get("job") is None else JobView.parse(data["job"])
        if (job is None) != (status == "blocked"):
            raise BadResponse(f"the server's answer is {status} but has {'no ' * (not job)}job")
        return cls(
            status=status,
            archive_sha256=_text(data, "archive_sha256"),
            job=job,
            pre_run=PreRun.parse(data.get("pre_run")),
        )


def verdict_exit_code(job: JobView) -> int:
    """The exit code `sandbox run` gives the job's run.

    0 when the verdict lets the pilot proceed; 3 when it is fail or blocked; 2 when the pilot
    was rejected (bad input); 1 when the run failed with an error of the sandbox's own, or the
    job was cancelled or lost.
    """
    if job.state != "finished":
        return 1
    if job.verdict in _PROCEED:
        return 0
    if job.verdict == "rejected":
        return 2
    if job.verdict in _STOP and not (job.error and job.verdict in {"fail", "failed"}):
        return 3
    return 1
