"""The sandbox's one error tree.

    SandboxError                    base: every error the sandbox raises on purpose
     ├── UserInputError             the user can fix it (CLI exit code 2)
     │    ├── ManifestError         pilot.yaml is malformed or inconsistent
     │    ├── DataError             a data file is missing, malformed or off-schema
     │    ├── PolicyPackError       a policy pack is malformed
     │    ├── ArchiveRefused        an uploaded pilot archive breaks a limit or a naming rule
     │    └── AccessDenied          a hosted sandbox's token is not valid, or may not do this
     ├── RuntimeUnavailable         no container engine, or no runner image
     ├── ContainerError            the pilot's container failed, timed out or was killed
     ├── OutputRejected             what the container wrote breaks the container contract
     ├── TrackingError              the experiment tracker failed (down: try again later)
     │    └── TrackingRefused       it refused a call as invalid: retrying cannot succeed
     ├── AuditError                 the audit trail cannot be written or does not verify
     └── HostedStateError           a hosted sandbox's database is unreachable or unknown

Each error carries the evidence a person needs: the file, the field and the fix.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ArchiveRefused",
    "AuditError",
    "ContainerError",
    "DataError",
    "HostedStateError",
    "ManifestError",
    "OutputRejected",
    "PolicyPackError",
    "RuntimeUnavailable",
    "SandboxError",
    "TrackingError",
    "TrackingRefused",
    "UserInputError",
]


class SandboxError(Exception):
    """Base of every error the sandbox raises on purpose."""

    exit_code = 1


class UserInputError(SandboxError):
    """Bad input the user can fix: a manifest, a policy pack, a data file, an argument."""

    exit_code = 2


class ManifestError(UserInputError):
    """pilot.yaml is malformed or inconsistent."""


class DataError(UserInputError):
    """A data file is missing, malformed, or does not match the manifest's schema."""


class PolicyPackError(UserInputError):
    """A policy pack is malformed or names an unknown rule type."""


class ArchiveRefused(UserInputError):
    """A pilot archive (packed or uploaded) breaks a size, count or naming limit."""


class AccessDenied(UserInputError):
    """A hosted sandbox refused a token, or the token's principal may not take this action."""


class RuntimeUnavailable(SandboxError):
    """No container engine is reachable, or the runner image is missing."""


class ContainerError(SandboxError):
    """The pilot's container failed, timed out or was killed.

    Carries the evidence: exit status, terminal state, image digest and the stderr tail.
    """

    def __init__(
        self,
        message: str,
        *,
        state: str = "failed",
        exit_code_in_container: int | None = None,
        image_digest: str | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.state = state
        self.exit_code_in_container = exit_code_in_container
        self.image_digest = image_digest
        self.stderr_tail = stderr_tail


class OutputRejected(SandboxError):
    """What the container wrote breaks the container contract (links, sizes, schema, row ids)."""


class TrackingError(SandboxError):
    """The experiment tracker (MLflow) failed."""


class TrackingRefused(TrackingError):
    """The tracker refused a call (an invalid name or value, an unknown run): not an outage."""


class AuditError(SandboxError):
    """The audit trail cannot be written, or does not verify."""


class HostedStateError(SandboxError):
    """A hosted sandbox's database cannot be reached, or its tables are at an unknown version."""
