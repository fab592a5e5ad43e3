"""Where the sandbox keeps its state, and every default a deployment may override.

Defaults need no server: MLflow on SQLite, the trail and signing key beside it, all under
the sandbox home. Environment variables ``SANDBOX_*`` (and ``MLFLOW_TRACKING_URI``) point the
same code at a shared MLflow server, another home, or another image.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "prepare_home", "settings_problem"]


def _default_home() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "ai-commons-sandbox"


class Settings(BaseSettings):
    """Sandbox settings, read from ``SANDBOX_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", frozen=True, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "SANDBOX_MLFLOW_TRACKING_URI"),
    )
    image: str | None = Field(default=None, description="Runner image; default: the built one.")
    memory_mb: int = Field(default=2048, ge=64)
    cpus: float = Field(default=1.0, gt=0)
    pids_limit: int = Field(default=256, ge=16)
    timeout_s: float = Field(default=600.0, gt=0)
    actor: str | None = Field(default=None, description="Who runs pilots, for the audit trail.")
    tenant: str | None = Field(
        default="local",
        description="The city this sandbox runs pilots for; the API serves a run to it alone. "
        "One machine serves one city, `local` unless set.",
    )
    runtime: str = Field(
        default="docker", description="The container backend (see sandbox.runtime.backends)."
    )
    city_packs: Path | None = Field(
        default=None,
        description="A folder of the city's own policy packs (<id>/pack.yaml); every one "
        "applies to every pilot, and no pilot's pack can take their ids or weaken their rules.",
    )
    trail_url: str | None = Field(
        default=None,
        description="Where the audit trail is kept: postgresql://USER:PASSWORD@HOST:PORT/DB "
        "for a PostgreSQL trail shared by many workers; unset, the file under the home.",
    )
    hosted_url: str | None = Field(
        default=None,
        description="The hosted sandbox's own state (organisations, tokens, jobs, sign-offs): "
        "postgresql://USER:PASSWORD@HOST:PORT/DB. Unset, the sandbox is one machine's.",
    )
    broker_url: str | None = Field(
        default=None,
        description="The task broker that carries a hosted sandbox's jobs to its workers: "
        "amqp://USER:PASSWORD@HOST:PORT/VHOST (RabbitMQ).",
    )
    archive_store: Path | None = Field(
        default=None,
        description="Where the hosted server keeps submitted pilot archives, by their SHA-256; "
        "default: <home>/archives.",
    )
    archive_url: str | None = Field(
        default=None,
        description="The hosted API a worker fetches archives from (https://HOST:PORT); unset, "
        "workers read `archive_store` directly (one machine, or a shared folder).",
    )
    worker_token: str | None = Field(
        default=None,
        description="The service token (worker role) a worker presents to fetch archives.",
    )
    tracking_sidecar: Literal["auto"] | bool = Field(
        default="auto",
        description="Load MLflow in a sidecar process while a command's run goes on (its "
        "start-up takes about 2 s): auto, when a core is idle as the command starts; true: "
        "always; false: in the command's own process.",
    )
    tracking_sidecar_idle_s: float = Field(
        default=600.0,
        ge=0,
        description="Keep one sidecar, MLflow loaded, for this many seconds after its last "
        "command, and let the commands that follow use it instead of loading MLflow again; "
        "0: a sidecar per command.",
    )
    command_server: bool = Field(
        default=False,
        description="Keep the sandbox's libraries loaded in a background server after the "
        "first command, and run each later command (same user, code and environment) as a "
        "fork of it: about 1.5 s less per command (read by the `sandbox` launcher).",
    )
    command_server_idle_s: float = Field(
        default=600.0,
        ge=0,
        description="How long the command server stays after its last command ends.",
    )
    shared_read: bool = Field(
        default=False,
        description="Let the owner's group read what runs write (folders 0750, files 0640); "
        "by default only the owner can (0700, 0600).",
    )

    @property
    def umask(self) -> int:
        """The file-creation mask of every sandbox process: private unless `shared_read`."""
        return 0o027 if self.shared_read else 0o077

    @property
    def runs_dir(self) -> Path:
        """One folder per run: staged inputs, code, outputs and reports."""
        return self.home / "runs"

    @property
    def trail_path(self) -> Path:
        """The append-only audit trail."""
        return self.home / "audit" / "trail.jsonl"

    @property
    def checkpoints_dir(self) -> Path:
        """The signed checkpoints of the trail, wherever its records are kept."""
        return self.home / "audit" / "checkpoints"

    @property
    def key_path(self) -> Path:
        """The Ed25519 signing key (created on first use, mode 0600)."""
        return self.home / "keys" / "trail-ed25519.pem"

    @property
    def outbox_dir(self) -> Path:
        """Tracking calls waiting for MLflow to be reachable again."""
        return self.home / "mlflow-outbox"

    @property
    def tracking_uri(self) -> str:
        """MLflow tracking URI: the configured one, or an embedded SQLite store."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path | None:
        """Artifact folder for a store this process writes itself (the embedded SQLite store,
        or a database URI without a server): under the home, never MLflow's `./mlruns` in
        whatever folder the command runs from. A tracking server decides its own."""
        uri = (self.mlflow_tracking_uri or "").strip().lower()
        if uri.startswith(("http://", "https://", "databricks")):
            return None
        return self.home / "mlflow" / "artifacts"

    @property
    def archives_dir(self) -> Path:
        """Submitted pilot archives, kept by their hash (hosted mode)."""
        return self.archive_store or self.home / "archives"

    @property
    def who(self) -> str:
        """The actor named in audit records."""
        if self.actor:
            return self.actor
        try:
            user = os.getlogin()
        except OSError:
            user = os.environ.get("USER", "unknown")
        return f"{user}@{os.uname().nodename}"


def prepare_home(settings: Settings) -> Path:
    """Create the sandbox home closed to other users (0700; 0750 with `shared_read`).

    Set explicitly, so that a home an older version or another tool left readable by all is
    closed too. The process's file-creation mask (`umask`) is set by the command line itself,
    never by library code, so importing the sandbox changes nothing in a caller's process.
    """
    mode = 0o777 & ~settings.umask
    settings.home.mkdir(mode=mode, parents=True, exist_ok=True)
    settings.home.chmod(mode)
    return settings.home


def settings_problem(exc: ValidationError) -> str | None:
    """What was wrong with the environment, one variable after another, with the fix; None if
    `exc` is not about `Settings`."""
    if exc.title != Settings.__name__:
        return None
    problems: dict[str, tuple[object, list[str]]] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = "MLFLOW_TRACKING_URI" if field == "mlflow_tracking_uri" else f"SANDBOX_{field}"
        problems.setdefault(variable.upper(), (error.get("input"), []))[1].append(error["msg"])
    said = [
        f"{name}={_shown(value)}: {' or '.join(dict.fromkeys(messages))}"
        for name, (value, messages) in problems.items()
    ]
    return "; ".join(said) + "; set it as docs/operators.md says, or unset it"


def _shown(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
