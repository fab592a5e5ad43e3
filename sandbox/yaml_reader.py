"""YAML from a pilot or a pack, parsed as plain data with every cost bounded before it is paid.

Three limits apply before any Python object is built: the file's size (`hostfile`), the nesting
depth (counted as the document is composed, on the way down: PyYAML's parser keeps its own
stack, and composing stops at the first collection too deep, so 20,000-deep nesting is refused
instead of ending in a RecursionError), and the size of the document with every alias expanded
(an "alias bomb" of a few lines expands tenfold per level once it is written to JSON).
Duplicate keys are refused instead of keeping the last one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from sandbox.hostfile import HostFileError, read_pilot_file

__all__ = ["MAX_DEPTH", "MAX_EXPANDED_NODES", "read_yaml"]

MAX_DEPTH = 64
MAX_EXPANDED_NODES = 50_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys and collections nested too deep."""

    _depth = 0

    def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
        with self._nested():
            return super().compose_sequence_node(anchor)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        with self._nested():
            return super().compose_mapping_node(anchor)

    @contextmanager
    def _nested(self) -> Iterator[None]:
        """One level deeper while a collection is composed; ValueError past `MAX_DEPTH`."""
        if self._depth == MAX_DEPTH:
            # The collection's start event, not yet taken off the queue.
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            line = mark.line + 1 if mark else "?"
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels (line {line}); flatten it")
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1


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
