"""The field definitions an entry is validated against, shipped as data, and the validator.

``standards/algoritmeregister-1.0.0.json`` holds the fields of the Dutch Algoritmeregister
publication standard, version 1.0.0 (the ``AlgorithmIn`` object of MinBZK's register; the
file names the repository, path and commit it was taken from), plus a ``profile`` that states
this register's one deviation (``lang`` may be ``eng``). A pydantic model is generated from the
definitions, so the standard's names, types, lengths, item counts, permitted values and
required flags are checked as written there, and unknown fields are refused.

Fields whose definition allows HTML tags carry HTML text in the standard; the mapping escapes
plain text for them, and the validator refuses any tag outside the allowed list.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from sandbox.errors import UserInputError

__all__ = [
    "DEFINITIONS_FILE",
    "Definitions",
    "FieldDefinition",
    "InvalidEntry",
    "definitions",
    "validate_entry",
]

DEFINITIONS_FILE: Final = "algoritmeregister-1.0.0.json"
_TAG_RE: Final = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")


class InvalidEntry(UserInputError):
    """An entry that breaks the standard's field definitions; names the entry and field."""


@dataclass(frozen=True)
class FieldDefinition:
    """One field of the standard as the definitions file states it."""

    name: str
    type: str  # "string", "enum" or "array"
    title: str
    required: bool
    description: str
    max_length: int | None = None
    max_items: int | None = None
    permitted_values: tuple[str, ...] = ()
    allowed_html_tags: tuple[str, ...] = ()
    items: tuple[FieldDefinition, ...] = ()  # an array of objects: their fields


@dataclass(frozen=True)
class Definitions:
    """The standard's name, version, source and fields (in the standard's order)."""

    standard: str
    version: str
    source: dict[str, str]
    fields: tuple[FieldDefinition, ...]

    def field(self, name: str) -> FieldDefinition:
        """The definition of one field (KeyError if the standard has none)."""
        return next(f for f in self.fields if f.name == name)


def _field(name: str, raw: dict[str, Any], profile: dict[str, Any]) -> FieldDefinition:
    permitted = tuple(raw.get("permitted_values", ()))
    permitted += tuple(profile.get(name, {}).get("add_permitted_values", ()))
    items = tuple(_field(k, v, {}) for k, v in raw.get("items", {}).items())
    return FieldDefinition(
        name=name,
        type=raw["type"],
        title=raw["title"],
        required=raw.get("required") is True,
        description=raw.get("description", ""),
        max_length=raw.get("max_length"),
        max_items=raw.get("max_items"),
        permitted_values=permitted,
        allowed_html_tags=tuple(raw.get("allowed_html_tags", ())),
        items=items,
    )


@cache
def definitions() -> Definitions:
    """The shipped definitions, with this register's profile applied."""
    text = (resources.files("sandbox.register") / "standards" / DEFINITIONS_FILE).read_text(
        encoding="utf-8"
    )
    data = json.loads(text)
    profile = data.get("profile", {})
    fields = tuple(_field(k, v, profile) for k, v in data["fields"].items())
    return Definitions(data["standard"], data["version"], data["source"], fields)


def _annotation(field: FieldDefinition) -> Any:
    """The pydantic type of one field's value (None is allowed where it is optional)."""
    if field.type == "enum":
        return Literal[field.permitted_values]
    if field.type == "array" and field.items:
        item: Any = _object_model(field)
        return list[item]
    if field.type == "array":
        member: Any = Literal[field.permitted_values] if field.permitted_values else str
        return list[member]
    return str


def _spec(field: FieldDefinition) -> tuple[Any, Any]:
    annotation = _annotation(field)
    limits: dict[str, Any] = {}
    if field.max_length is not None:
        limits["max_length"] = field.max_length
    if field.max_items is not None:
        limits["max_length"] = field.max_items
    if field.required:
        return annotation, Field(..., min_length=1, **limits) if annotation is str else Field(...)
    return annotation | None, Field(None, **limits)


def _object_model(field: FieldDefinition) -> type[BaseModel]:
    specs: dict[str, Any] = {f.name: _spec(f) for f in field.items}
    config = ConfigDict(extra="forbid", strict=True)
    return create_model(f"Item_{field.name}", __config__=config, **specs)


@cache
def _entry_model() -> type[BaseModel]:
    specs: dict[str, Any] = {f.name: _spec(f) for f in definitions().fields}
    config = ConfigDict(extra="forbid", strict=True)
    return create_model("AlgorithmIn", __config__=config, **specs)


def _tags(entry_id: str, entry: dict[str, Any]) -> None:
    for field in definitions().fields:
        value = entry.get(field.name)
        if not field.allowed_html_tags or not isinstance(value, str):
            continue  # a plain-text field is text: whoever shows it escapes it
        allowed = set(field.allowed_html_tags)
        for match in _TAG_RE.finditer(value):
            if match.group(1).lower() not in allowed:
                raise InvalidEntry(
                    f"register entry {entry_id!r}, field {field.name!r}: HTML tag "
                    f"<{match.group(1)}> is not allowed here (allowed: "
                    f"{', '.join(sorted(allowed))}); write it as plain text"
                )


def validate_entry(entry_id: str, entry: dict[str, Any]) -> None:
    """Check one entry in the standard's shape; InvalidEntry names the field and the fix."""
    try:
        _entry_model().model_validate(entry)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        name = str(error["loc"][0]) if error["loc"] else "?"
        title = ""
        with contextlib.suppress(StopIteration):
            title = f" ({definitions().field(name).title})"
        raise InvalidEntry(
            f"register entry {entry_id!r}, field {where!r}{title}: {error['msg']}; fill it "
            f"(or shorten it) with governance.transparency.{name} in the pilot's manifest"
        ) from None
    _tags(entry_id, entry)
