"""The mapping of a report to the Dutch standard: sources, gaps, derivations, escaping."""

from __future__ import annotations

import pytest

from sandbox.register.definitions import InvalidEntry, definitions, validate_entry
from sandbox.register.mapping import map_report
from sandbox.reports.documents.atrs import atrs_record
from tests.unit.register.reports import HOSTILE, report


def _mapped(**transparency: str):
    rep = report(**transparency)
    return map_report(rep, atrs_record(rep), source_id="northtown--intake")


def test_every_field_is_sourced_or_a_gap() -> None:
    mapped = _mapped()
    names = {f.name for f in definitions().fields}
    gaps = {g["field"] for g in mapped.gaps}
    assert set(mapped.fields) | gaps == names
    assert not set(mapped.fields) & gaps
    assert set(mapped.sources) == set(mapped.fields)
    assert all(mapped.sources[name] for name in mapped.fields)
    validate_entry("northtown--intake", mapped.fields)


def test_fields_come_from_the_report_and_the_stated_rules() -> None:
    mapped = _mapped()
    fields = mapped.fields
    assert fields["contact_email"] == "ai@northtown.example"
    assert mapped.sources["contact_email"] == ["pilot.contact"]
    assert fields["status"] == "In ontwikkeling"  # phase mvp
    assert fields["publication_category"] == "Impactvolle algoritmes"  # level III
    assert fields["organization"] == "Northtown"
    assert fields["lang"] == "eng" and fields["standard_version"] == "1.0.0"
    assert "category" in {g["field"] for g in mapped.gaps}


def test_a_declared_transparency_key_wins_and_is_checked() -> None:
    mapped = _mapped(status="In gebruik", category="Wonen, Sociale zekerheid")
    assert mapped.fields["status"] == "In gebruik"
    assert mapped.fields["category"] == ["Wonen", "Sociale zekerheid"]
    assert mapped.sources["category"] == ["governance.transparency.category"]
    bad = _mapped(status="Live")
    with pytest.raises(InvalidEntry, match=r"field 'status' \(Status\).*transparency\.status"):
        validate_entry("northtown--intake", bad.fields)


def test_hostile_strings_are_escaped_where_the_standard_allows_html() -> None:
    fields = _mapped().fields
    assert fields["name"].endswith(HOSTILE)  # plain-text field: kept as text, escaped on pages
    assert "<script>" not in fields["goal"] and "&lt;script&gt;" in fields["goal"]
    validate_entry("northtown--intake", fields)


def test_a_too_long_name_is_refused_naming_the_field() -> None:
    fields = _mapped(name="x" * 101).fields
    with pytest.raises(InvalidEntry, match=r"'northtown--intake', field 'name' \(Naam\)"):
        validate_entry("northtown--intake", fields)


def test_unknown_fields_and_disallowed_tags_are_refused() -> None:
    fields = _mapped().fields
    with pytest.raises(InvalidEntry, match="field 'extra'"):
        validate_entry("e", {**fields, "extra": "x"})
    with pytest.raises(InvalidEntry, match=r"field 'risks'.*<script>"):
        validate_entry("e", {**fields, "risks": "<p>ok</p><script>x</script>"})


def test_the_definitions_state_their_source_and_version() -> None:
    defs = definitions()
    assert defs.version == "1.0.0"
    assert defs.source["repository"] == "https://github.com/MinBZK/Algoritmeregister"
    assert len(defs.source["commit"]) == 40
    assert defs.field("name").max_length == 100 and defs.field("name").required
    assert defs.field("lang").permitted_values == ("nld", "eng")
