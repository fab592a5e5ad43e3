"""The Merkle tree over the trail's records, built as RFC 9162 (and RFC 6962) build theirs.

    leaf      = the record's hash: the 32-byte sha256 of its canonical line
    leaf hash = SHA-256(0x00 || leaf)
    node hash = SHA-256(0x01 || left || right)
    MTH(D[n]) = node hash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two below n

A signed checkpoint carries the root of the tree over the trail's first `trail_size` records.
An inclusion proof shows that one record sits at its position under that root without
showing any other record, so a bundle carries its run's records and nothing of other runs; a
consistency proof shows that a later checkpoint's tree extends an earlier one's. The
algorithms are the RFC's (section 2.1), for every tree size, not only powers of two.

The trees are read through `Nodes`: the hash of each complete subtree, (level, index) for the
2**level leaves from index * 2**level. The file store keeps them in its index and the memory
store in `MerkleLevels`, both maintained as records are appended, so a root or a proof costs
O(log² n) lookups, never a pass over the trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "MerkleLevels",
    "Nodes",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

#: The root of the empty tree: SHA-256 of the empty string (RFC 9162, 2.1.1).
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the hash of one leaf."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Nodes(Protocol):
    """Hashes of the complete subtrees of a tree, as far as it has leaves."""

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        ...

    def node(self, level: int, index: int) -> bytes:
        """The hash of the 2**level leaves from `index * 2**level`; KeyError if unknown."""
        ...


def _subtree(nodes: Nodes, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range the RFC's recursion produces (start aligned to a split)."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return nodes.node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(_subtree(nodes, start, start + k), _subtree(nodes, start + k, end))


def _check_size(nodes: Nodes, size: int) -> None:
    if not 0 <= size <= nodes.size:
        raise ValueError(f"tree size {size}: the tree holds {nodes.size} leaves")


def root(nodes: Nodes, size: int) -> bytes:
    """The root of the tree over the first `size` leaves."""
    _check_size(nodes, size)
    return _subtree(nodes, 0, size) if size else EMPTY_ROOT


def inclusion_proof(nodes: Nodes, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf `index` in the tree of `size` leaves."""
    _check_size(nodes, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # the RFC's recursion, unrolled: the path is built leaf-first
        k = _split(end - start)
        if index - start < k:
            path.append(_subtree(nodes, start + k, end))
            end = start + k
        else:
            path.append(_subtree(nodes, start, start + k))
            start += k
    return path[::-1]


def consistency_proof(nodes: Nodes, old_size: int, size: int) -> list[bytes]:
    """PROOF(old_size, D[0:size]): that the tree of `size` leaves extends the older one."""
    _check_size(nodes, size)
    if not 0 <= old_size <= size:
        raise ValueError(f"tree size {old_size} is not within 0..{size}")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    m, start, end, whole = old_size, 0, size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_subtree(nodes, start + k, end))
            end = start + k
        else:
            proof.append(_subtree(nodes, start, start + k))
            m, start, whole = m - k, start + k, False
    if not whole:
        proof.append(_subtree(nodes, start, end))
    return proof[::-1]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], tree_root: bytes
) -> bool:
    """Whether `proof` shows the leaf hash `leaf` at `index` in the tree of `size` with `tree_root`.

    RFC 9162, 2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == tree_root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree (`size`, `new_root`) extends (`old_size`, `old_root`).

    RFC 9162, 2.1.4.2; equal sizes need an empty proof and equal roots, size 0 extends into
    any tree.
    """
    if not 0 <= old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The roots of the complete subtrees along a tree's right edge: enough to append leaves
    and compute the root, in O(log n) space (a "compact range" of the whole tree).
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)  # one per set bit of size, largest subtree first
        if len(self.hashes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves holds {size.bit_count()} hashes")

    @classmethod
    def of(cls, nodes: Nodes, size: int) -> Frontier:
        """The frontier of the first `size` leaves of `nodes`."""
        _check_size(nodes, size)
        levels = [lv for lv in reversed(range(size.bit_length())) if size >> lv & 1]
        return cls(size, [nodes.node(lv, (size >> lv) - 1) for lv in levels])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the leaf hash `leaf`; returns the (level, index, hash) of every node completed."""
        made = [(0, self.size, leaf)]
        carry, level = leaf, 0
        while self.size >> level & 1:
            carry = node_hash(self.hashes.pop(), carry)
            level += 1
            made.append((level, self.size >> level, carry))
        self.hashes.append(carry)
        self.size += 1
        return made

    def root(self) -> bytes:
        """The root of the tree so far."""
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r


class MerkleLevels:
    """Every complete subtree's hash, level by level, in memory; grows one leaf at a time."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self._frontier = Frontier()
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Add the leaf hash `leaf` and every subtree it completes."""
        for level, _, digest in self._frontier.append(leaf):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(digest)

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree (level, index); KeyError if it is not complete."""
        try:
            return self._levels[level][index]
        except IndexError:
            raise KeyError((level, index)) from None
