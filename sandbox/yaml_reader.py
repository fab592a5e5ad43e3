"""YAML from a pilot or a pack, parsed as plain data with every cost bounded before it is paid.

Three limits apply before any Python object is built: the file's size (`hostfile`), the nesting
depth (counted on the parser's event stream, which PyYAML produces without recursion, so
20,000-deep nesting is refused instead of ending in a RecursionError), and the size of the
document with every alias expanded (an "alias bomb" of a few lines expands tenfold per level
once it is written to JSON). Duplicate keys are refused instead of keeping the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sandbox.hostfile import HostFileError, read_pilot_file

__all__ = ["MAX_DEPTH", "MAX_EXPANDED_NODES", "read_yaml"]

MAX_DEPTH = 64
MAX_EXPANDED_NODES = 50_000

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _check_depth(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels (line {line}); flatten it")
        elif isinstance(event, _CLOSE):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document with every alias expanded, computed once per distinct node."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # Post-order without recursion: a node's size is known once its children's are.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[id(node)] = min(total, MAX_EXPANDED_NODES + 1)
            open_nodes.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise ValueError("an alias refers to the value that contains it; remove the cycle")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    return sizes[id(root)]


def read_yaml(path: Path, *, max_bytes: int, error: type[Exception]) -> Any:
    """Parse a YAML file as data (safe loader, unique keys, size, depth and expansion capped)."""
    try:
        raw = read_pilot_file(path, max_bytes=max_bytes)
    except HostFileError as exc:
        raise error(f"{path}: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        _check_depth(text)
        loader = _UniqueKeyLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            if _expanded_size(root) > MAX_EXPANDED_NODES:
                raise ValueError(
                    f"expands to more than {MAX_EXPANDED_NODES:,} values once its aliases "
                    "(*name) are resolved; write the values out or remove the aliases"
                )
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except ValueError as exc:
        raise error(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}: invalid YAML{where}: {problem}") from None
