"""The manifest's `model` section: which of three kinds of model runs inside the container.

- a **factory** (`model.entrypoint: FILE.py:FACTORY`): returns any object with `fit` and
  `predict` (and `predict_proba` or `decision_function` for scores); the harness fits it;
- a **vendor's trained model** (`model.artifact: vendor.onnx | vendor.skops | vendor.joblib`):
  loaded only inside the container, evaluated, never fitted; the host only hashes the file;
- a **command of the pilot's own** (`model.command: ["python3", "score.py"]`, an argv list run
  without a shell in /pilot): it reads /input and writes /output/predictions.csv itself.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox.confinement import PilotPath, relative_path
from sandbox.plain_data import check_plain

__all__ = ["ARTIFACT_FORMATS", "ModelKind", "ModelSection"]

ModelKind = Literal["factory", "artifact", "command"]
#: File suffix of a vendor's model -> its format, as the harness loads it.
ARTIFACT_FORMATS = {".onnx": "onnx", ".skops": "skops", ".joblib": "joblib"}
#: What a report says of every model the sandbox did not fit itself.
TRAINED_ELSEWHERE = (
    "This model was trained outside the sandbox: the sandbox cannot know what data it was "
    "trained on, how, or whether that data overlaps the evaluation rows; it assessed the "
    "model's predictions only."
)
PICKLE_WARNING = (
    "The model file is a pickle (joblib), loaded with model.allow_pickle: true. Loading a "
    "pickle runs whatever code it holds; the sandbox loaded it only inside the isolated "
    "container. Prefer ONNX or skops, which load without running code."
)
_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class ModelSection(BaseModel):
    """What runs inside the container: a factory, a vendor's trained model, or a command."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    entrypoint: Annotated[str, PilotPath(split=":")] = Field(
        default="model.py:build_model",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.py:[A-Za-z_][A-Za-z0-9_]*$",
        description="FILE.py:FACTORY returning any object with fit() and predict() "
        "(and predict_proba() or decision_function() for scores); run by the harness.",
    )
    artifact: Annotated[str | None, PilotPath()] = Field(
        default=None,
        description="A vendor's trained model inside the pilot folder (.onnx, .skops, or "
        ".joblib with allow_pickle): loaded only inside the container, evaluated, never fitted.",
    )
    trusted_types: tuple[str, ...] = Field(
        default=(),
        max_length=200,
        description="For a .skops artifact: dotted type names the file may hold beyond those "
        "skops trusts by default; any other untrusted type is refused.",
    )
    allow_pickle: bool = Field(
        default=False,
        description="Allow a .joblib artifact (a pickle, which runs code when loaded); the "
        "reports carry a warning.",
    )
    command: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="An argv list run in /pilot without a shell, e.g. [python3, score.py]; it "
        "reads /input and writes /output/predictions.csv under the container contract.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    importance_holdout: float = Field(
        default=0.2,
        ge=0.0,
        le=0.5,
        description=(
            "Share of the training rows held back from fitting to measure permutation "
            "importance on rows the model did not see; 0 fits on every training row and "
            "measures importance on those same rows."
        ),
    )
    code: Annotated[tuple[str, ...], PilotPath()] = Field(
        default=("*.py",),
        description="Glob patterns of the code files staged into /pilot (data files never are).",
    )

    @field_validator("entrypoint")
    @classmethod
    def _no_escape(cls, value: str) -> str:
        relative_path(value.split(":", 1)[0])
        return value

    @field_validator("artifact")
    @classmethod
    def _artifact_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        relative_path(value)
        if PurePosixPath(value).suffix.lower() not in ARTIFACT_FORMATS:
            raise ValueError(
                f"{value!r}: the format is read from the file name; use a .onnx, .skops or "
                ".joblib file"
            )
        return value

    @field_validator("trusted_types")
    @classmethod
    def _type_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _TYPE_NAME.match(name):
                raise ValueError(f"{name!r} is not a dotted type name such as 'module.Class'")
        return value

    @field_validator("command")
    @classmethod
    def _argv(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and any(not arg or len(arg) > 4096 or "\0" in arg for arg in value):
            raise ValueError("each argument must be non-empty text of at most 4096 characters")
        return value

    @field_validator("code")
    @classmethod
    def _relative_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(relative_path(pattern) for pattern in value)

    @field_validator("params")
    @classmethod
    def _plain_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        # They are written to spec.json, the reports and MLflow: JSON data only, bounded.
        check_plain(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ModelSection:
        chosen = [f for f in ("entrypoint", "artifact", "command") if f in self.model_fields_set]
        chosen = [f for f in chosen if getattr(self, f) is not None]
        if len(chosen) > 1:
            raise ValueError(
                f"choose one kind of model: {' and '.join(chosen)} are both set "
                "(entrypoint: a factory; artifact: a trained model file; command: your own program)"
            )
        fmt = self.artifact_format
        if fmt == "joblib" and not self.allow_pickle:
            raise ValueError(
                f"artifact {self.artifact!r} is a pickle, which runs code when it is loaded; "
                "fix: export the model to ONNX or skops, or set model.allow_pickle: true to "
                "load it inside the container (the reports will carry a warning)"
            )
        if self.allow_pickle and fmt != "joblib":
            raise ValueError("allow_pickle applies only to a .joblib artifact; remove it")
        if self.trusted_types and fmt != "skops":
            raise ValueError("trusted_types applies only to a .skops artifact; remove it")
        return self

    @property
    def kind(self) -> ModelKind:
        """Which kind of model this is."""
        if self.artifact is not None:
            return "artifact"
        if self.command is not None:
            return "command"
        return "factory"

    @property
    def artifact_format(self) -> str | None:
        """`onnx`, `skops` or `joblib` for a trained model file; None for other kinds."""
        if self.artifact is None:
            return None
        return ARTIFACT_FORMATS[PurePosixPath(self.artifact).suffix.lower()]

    def notes(self) -> tuple[str, ...]:
        """What the reports must say about this kind of model."""
        if self.kind != "artifact":
            return ()
        return (TRAINED_ELSEWHERE, *((PICKLE_WARNING,) if self.allow_pickle else ()))

    def harness_spec(self) -> dict[str, Any]:
        """The `model` entry of spec.json: what the harness runs, for the kinds it runs."""
        if self.kind == "artifact":
            return {
                "kind": "artifact",
                "artifact": self.artifact,
                "format": self.artifact_format,
                "trusted_types": list(self.trusted_types),
                "allow_pickle": self.allow_pickle,
            }
        if self.kind == "command":
            return {"kind": "command", "command": list(self.command or ())}
        return {"kind": "factory"}

    def describe(self) -> str:
        """One line naming the model for reports and the trail."""
        if self.kind == "artifact":
            return f"trained model file {self.artifact} ({self.artifact_format})"
        if self.kind == "command":
            return "command " + " ".join(self.command or ())
        return f"factory {self.entrypoint}"
