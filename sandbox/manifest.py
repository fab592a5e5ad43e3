"""The pilot manifest (`pilot.yaml`): typed, validated, and published as a JSON Schema.

A manifest is parsed as data and never executed. Every validation error names the file, the
field path and what would fix it, e.g.
``pilot.yaml: data.sensitive[1]: column 'race' not in households.csv``.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

from sandbox.confinement import PilotPath, confine_fields, relative_path
from sandbox.data.coherence import check_roles
from sandbox.data.section import DataSection, DataSource, SplitSection
from sandbox.errors import ManifestError
from sandbox.model_section import ModelSection
from sandbox.placeholders import PLACEHOLDER, placeholder_fields
from sandbox.plain_data import bad_text
from sandbox.tasks import TaskConfig, on_register, registered_tasks
from sandbox.tasks.assistant import AssistantConfig, check_assistant_data
from sandbox.yaml_reader import read_yaml

__all__ = [
    "DataSection",
    "DataSource",
    "EvaluationSection",
    "GovernanceSection",
    "ImpactAssessment",
    "ModelSection",
    "Owner",
    "Phase",
    "PilotIdentity",
    "PilotManifest",
    "ResourceRequest",
    "SignOff",
    "SplitSection",
    "TaskSection",
    "load_manifest",
    "manifest_json_schema",
]

MANIFEST_NAME = "pilot.yaml"
MAX_MANIFEST_BYTES = 1_000_000
_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Owner(_Section):
    """Who owns the pilot and answers for it."""

    city: str = Field(min_length=1, max_length=200)
    department: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=3, max_length=200, description="Email or role address.")


class PilotIdentity(_Section):
    """Identity and purpose, in the City Data Alliance scoping vocabulary."""

    name: str = Field(pattern=_SLUG, description="Lower-case slug; names the MLflow experiment.")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
    title: str = Field(default="", max_length=200)
    owner: Owner
    purpose: str = Field(min_length=1, max_length=4000)
    problem: str = Field(
        min_length=1, max_length=4000, description="The resident-facing problem it addresses."
    )
    intended_users: tuple[str, ...] = Field(min_length=1)
    success_indicators: tuple[str, ...] = Field(min_length=1)
    phase: Literal["scoping", "prototype", "mvp", "scale"] = "prototype"


class _RegisteredTaskConfig:
    """The `task` section: one model per registered task type, chosen by its `type`.

    The union is built from the task registry, so a task type registered later (a new module
    in `sandbox.tasks`, or a test's toy task) is validated and published without editing
    this file: `PilotManifest` is rebuilt whenever the registry changes.
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        choices: dict[Hashable, core_schema.CoreSchema] = {
            task.name: handler.generate_schema(task.config) for task in registered_tasks()
        }
        return core_schema.tagged_union_schema(choices, discriminator="type")


#: The manifest's `task` section, typed by its common base.
TaskSection = Annotated[TaskConfig, _RegisteredTaskConfig]


class ResourceRequest(_Section):
    """Resources the pilot asks for; the sandbox grants the stricter of this and its defaults."""

    memory_mb: int | None = Field(default=None, ge=64, le=65536)
    cpus: float | None = Field(default=None, gt=0, le=64)
    timeout_s: float | None = Field(default=None, gt=0, le=86400)


class EvaluationSection(_Section):
    """How the fairness evaluation is computed."""

    min_group_size: int = Field(default=30, ge=1)
    bootstrap: int = Field(default=1000, ge=0, le=100_000)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


Phase = Literal["scoping", "prototype", "mvp", "scale"]


class ImpactAssessment(_Section):
    """Answers to the AIA-style impact questionnaire; an unanswered question is left out.

    The weights, the scores and the impact level I-IV are in `sandbox.policies.impact`
    (`sandbox assess PILOT` prints them). Read an answer as ``assessment["automation"]``.
    """

    effect_on_residents: (
        Literal["none", "convenience", "access_to_services", "rights_or_livelihood"] | None
    ) = Field(default=None, description="What the decision the system supports affects.")
    reversibility: Literal["reversible", "reversible_with_effort", "irreversible"] | None = Field(
        default=None, description="How easily a resident can have a wrong decision undone."
    )
    vulnerable_groups: Literal["none", "some", "primarily"] | None = Field(
        default=None, description="Whether the residents affected include vulnerable groups."
    )
    data_sensitivity: Literal["public_or_aggregate", "personal", "special_category"] | None = Field(
        default=None, description="The most sensitive data the model is trained on."
    )
    automation: (
        Literal["informational", "decision_support", "partial_automation", "full_automation"] | None
    ) = Field(default=None, description="How much of the decision the system makes itself.")
    residents_affected: Literal["few", "many", "city_wide"] | None = Field(
        default=None, description="Residents affected per year: <1,000, up to 100,000, more."
    )
    mitigations: tuple[
        Literal[
            "human_review",
            "appeal_process",
            "bias_audit",
            "data_minimisation",
            "public_notice",
            "oversight_board",
            "fallback_process",
            "staff_training",
        ],
        ...,
    ] = Field(default=(), description="Mitigations in place; each lowers the mitigated score.")
    notes: str = Field(default="", max_length=4000, description="Why these answers.")

    @field_validator("mitigations")
    @classmethod
    def _unique_mitigations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a mitigation is listed twice")
        return value

    def __getitem__(self, question: str) -> Any:
        """The answer to one question, by its field name."""
        if question not in type(self).model_fields:
            raise KeyError(question)
        return getattr(self, question)


class SignOff(_Section):
    """A named person's approval for the pilot to run in a phase."""

    role: str = Field(min_length=1, max_length=200, description="e.g. 'data protection officer'.")
    name: str = Field(min_length=1, max_length=200)
    phase: Phase = Field(description="The phase this sign-off lets the pilot run in.")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD.")
    note: str = Field(default="", max_length=4000)


class GovernanceSection(_Section):
    """Policy packs to apply and the governance facts the reports publish."""

    policy_packs: Annotated[tuple[str, ...], PilotPath()] = Field(
        default=("baseline",),
        min_length=1,
        description="Packs to apply on top of the mandatory ones: a built-in or city pack name, "
        "or a pack file inside the pilot folder. Built-in and city packs always apply.",
    )
    impact_assessment: ImpactAssessment = Field(
        default_factory=ImpactAssessment,
        description="Answers to the impact-assessment questionnaire (`sandbox assess`).",
    )
    human_oversight: str = Field(default="", max_length=4000)
    data_retention: str = Field(default="", max_length=4000)
    transparency: dict[str, str] = Field(
        default_factory=dict, description="Extra fields for the algorithmic transparency record."
    )
    sign_offs: tuple[SignOff, ...] = Field(
        default=(), description="Named approvals to run in a phase (see sign_offs_required)."
    )

    @field_validator("policy_packs")
    @classmethod
    def _pack_names_or_files(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(relative_path(name) for name in value)


class PilotManifest(_Section):
    """A pilot: who runs it and why, what it predicts, on which data, under which governance."""

    manifest_version: Literal[1] = 1
    pilot: PilotIdentity
    task: TaskSection
    data: DataSection
    model: ModelSection = ModelSection()
    resources: ResourceRequest = ResourceRequest()
    evaluation: EvaluationSection = EvaluationSection()
    governance: GovernanceSection = GovernanceSection()

    @field_validator("data")
    @classmethod
    def _data_fits_task(cls, data: DataSection, info: ValidationInfo) -> DataSection:
        """JSON Lines is an assistant's evaluation set, and an assistant reads only that."""
        task = info.data.get("task")  # absent when the task section itself is invalid
        if isinstance(task, AssistantConfig):
            check_assistant_data(data)
            return data
        for index, source in enumerate(data.sources):
            if task is not None and source.resolved_format == "jsonl":
                raise ValueError(
                    f"sources[{index}]: JSON Lines is only for task type assistant; give "
                    f"{task.type} its data as CSV or Parquet"
                )
        if not data.reads_jsonl:  # else the task section is invalid: its error says enough
            check_roles(data)
        return data


def _rebuild() -> None:
    PilotManifest.model_rebuild(force=True)


on_register(_rebuild)


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of pilot.yaml, for editors and validators."""
    schema = PilotManifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "AI Commons Sandbox pilot manifest"
    return schema


def format_location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a field path: ``data.sensitive[1]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


_FIXES = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or check its spelling against `sandbox schema pilot`",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "match the expected pattern",
}


def _task_location(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the task-type tag pydantic puts in a task field's path (`task.<type>.field`)."""
    names = {task.name for task in registered_tasks()}
    if len(loc) > 2 and loc[0] == "task" and loc[1] in names:
        return (loc[0], *loc[2:])
    return loc


def describe_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: file, field path, what is wrong, and how to fix it."""
    lines = []
    known = ", ".join(task.name for task in registered_tasks())
    for err in exc.errors(include_url=False):
        message = str(err["msg"]).removeprefix("Value error, ")
        fix = _FIXES.get(err["type"])
        loc = _task_location(err["loc"])
        if err["type"] == "string_pattern_mismatch":
            pattern = (err.get("ctx") or {}).get("pattern", "")
            message = f"{err.get('input')!r} does not match {pattern}"
        elif err["type"] == "union_tag_invalid":
            tag = (err.get("ctx") or {}).get("tag")
            loc, message = (*loc, "type"), f"unknown task type {tag!r}"
            fix = f"use one of the known task types: {known}"
        elif err["type"] == "union_tag_not_found":
            loc, message = (*loc, "type"), "Field required"
            fix = f"add this field: one of the known task types: {known}"
        lines.append(f"{path}: {format_location(loc)}: {message}" + (f" ({fix})" if fix else ""))
    return "\n".join(lines)


def load_manifest(pilot_dir: Path) -> PilotManifest:
    """Read and validate `pilot_dir/pilot.yaml`; raise ManifestError naming file, field and fix."""
    path = pilot_dir / MANIFEST_NAME
    if not pilot_dir.is_dir():
        raise ManifestError(
            f"{pilot_dir}: not a folder (a pilot is a folder with a {MANIFEST_NAME})"
        )
    data = read_yaml(path, max_bytes=MAX_MANIFEST_BYTES, error=ManifestError)
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a mapping of sections (pilot, task, data, ...)")
    if (where := bad_text(data)) is not None:  # a "\ud800" escape: unwritable as UTF-8
        raise ManifestError(f"{path}: {where}: text is not valid UTF-8 (a lone surrogate escape)")
    if todo := placeholder_fields(data):  # a scaffold's fields the team has not completed
        raise ManifestError(
            f"{path}: {len(todo)} field(s) still hold a '{PLACEHOLDER}' placeholder: "
            f"{', '.join(todo)}; replace each with the pilot's own answer"
        )
    try:
        manifest = PilotManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(describe_validation_error(path, exc)) from None
    # Every path the manifest names stays inside the folder, links followed and checked.
    confine_fields(manifest, pilot_dir, where=path, error=ManifestError)
    return manifest
