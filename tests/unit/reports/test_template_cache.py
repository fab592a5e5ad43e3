"""Compiled templates kept between processes: reused, never stale, private, never a failure."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import jinja2
import pytest

from sandbox.reports import model as r
from sandbox.reports.render import template_environment
from sandbox.reports.template_cache import HOME_FOLDER, home_cache_dir, template_cache
from sandbox.reports.writer import write_reports
from tests.unit.reports.test_documents import manifest, report  # noqa: F401 - fixtures


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.md.j2").write_text("{{ items[0] | num }} {{ items[1] | num }}\n")
    return folder


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source (the real compiler still runs)."""
    seen: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: object, name: str | None = None, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(str(name))
        return compile_source(self, source, name, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return seen


def _render(templates: Path, cache: Path | None) -> str:
    env = template_environment(templates, cache_dir=cache)
    return env.get_template("page.md.j2").render(items=[1, 2.5])


def test_a_second_environment_reuses_the_compiled_template(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    cache = tmp_path / "home" / "cache" / "templates"
    first = _render(templates, cache)
    second = _render(templates, cache)
    assert first == second == "1 2.500\n"
    assert compiles == ["page.md.j2"]  # the second process-like environment loaded it
    assert len(list(cache.iterdir())) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def test_an_edited_template_is_compiled_again(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    cache = tmp_path / "cache"
    assert _render(templates, cache) == "1 2.500\n"
    (templates / "page.md.j2").write_text("{{ items | length }}\n")
    assert _render(templates, cache) == "2\n"
    assert compiles == ["page.md.j2", "page.md.j2"]


def test_a_damaged_cache_file_is_compiled_again(
    templates: Path, tmp_path: Path, compiles: list[str]
) -> None:
    cache = tmp_path / "cache"
    _render(templates, cache)
    (kept,) = cache.iterdir()
    kept.write_bytes(kept.read_bytes()[:40])  # cut short, as by a full disk
    assert _render(templates, cache) == "1 2.500\n"
    assert len(compiles) == 2


def test_an_unusable_folder_means_no_cache_and_the_same_output(
    templates: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("in the way")
    assert template_cache(blocked) is None
    assert template_cache(None) is None
    assert _render(templates, blocked) == "1 2.500\n"


def test_a_linked_folder_is_not_trusted(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    assert template_cache(link) is None


def test_an_open_folder_is_closed_before_use(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    assert template_cache(folder) is not None
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_removed_folder_does_not_fail_a_report(templates: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = template_environment(templates, cache_dir=cache)
    cache.rmdir()  # removed between opening the cache and writing to it
    assert env.get_template("page.md.j2").render(items=[3, 4]) == "3 4\n"


def test_the_home_folder() -> None:
    assert home_cache_dir(None) is None
    assert home_cache_dir(Path("/h")) == Path("/h") / HOME_FOLDER


def test_every_report_file_is_the_same_with_the_cache(
    report: r.AuditReport,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"

    def digests(folder: Path, cache_dir: Path | None) -> dict[str, str]:
        paths = write_reports(report, folder, cache_dir=cache_dir)
        return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}

    plain = digests(tmp_path / "plain", None)
    assert digests(tmp_path / "first", cache) == plain  # compiled, then kept
    assert digests(tmp_path / "second", cache) == plain  # loaded from the cache
    assert len(list(cache.iterdir())) >= 8  # the report's and the documents' templates
