"""YAML nesting is counted as the document is composed: the limit is exact, wherever it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.yaml_reader import MAX_DEPTH, read_yaml


def _read(tmp_path: Path, text: str) -> object:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, max_bytes=1 << 20, error=ValueError)


def test_the_depth_limit_is_exact(tmp_path: Path) -> None:
    deepest = "x: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    assert _read(tmp_path, deepest) is not None  # the root mapping is the first level
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels \\(line 1\\)"):
        _read(tmp_path, "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")


def test_the_line_named_is_the_first_collection_too_deep(tmp_path: Path) -> None:
    block = "a:\n" + "".join("  " * i + "- \n" for i in range(1, MAX_DEPTH + 5))
    with pytest.raises(ValueError, match=f"\\(line {MAX_DEPTH + 1}\\)"):
        _read(tmp_path, block)


def test_siblings_do_not_add_up(tmp_path: Path) -> None:
    nested = "[" * (MAX_DEPTH - 2) + "{k: v}" + "]" * (MAX_DEPTH - 2)
    text = "".join(f"s{i}: {nested}\n" for i in range(3))  # three at the limit, side by side
    value = _read(tmp_path, text)
    assert isinstance(value, dict) and sorted(value) == ["s0", "s1", "s2"]
