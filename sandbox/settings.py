"""Where the sandbox keeps its state, and every default a deployment may override.

Defaults need no server: MLflow on SQLite, the trail and signing key beside it, all under
the sandbox home. Environment variables ``SANDBOX_*`` (and ``MLFLOW_TRACKING_URI``) point the
same code at a shared MLflow server, another home, or another image.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


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
    runtime: str = Field(
        default="docker", description="The container backend (see sandbox.runtime.backends)."
    )

    @property
    def runs_dir(self) -> Path:
        """One folder per run: staged inputs, code, outputs and reports."""
        return self.home / "runs"

    @property
    def trail_path(self) -> Path:
        """The append-only audit trail."""
        return self.home / "audit" / "trail.jsonl"

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
        """Artifact folder for the embedded store; a remote server decides its own."""
        return None if self.mlflow_tracking_uri else self.home / "mlflow" / "artifacts"

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
