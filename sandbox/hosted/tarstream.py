"""A strict, streaming reader of tar headers (POSIX ustar and pax), bounded at every step.

Python's `tarfile` reads a GNU long-name or pax header whole, however large its header says
it is, builds GNU sparse maps of any length, and follows chains of extended headers by
recursion. This reader accepts only what a pilot archive needs: ustar headers (the GNU magic
too), one pax header before an entry, with a size capped before it is read and only the
keywords that cannot change an entry's meaning for another reader. File data is skipped in
fixed-size pieces, never held. Every header is checked (checksum, octal numbers, UTF-8), and
the archive must end with its end-of-archive block, followed only by zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sandbox.errors import ArchiveRefused
from sandbox.hosted.limits import shown

__all__ = ["BLOCK", "TarHeader", "read_headers"]

BLOCK = 512
_PIECE = 64 * 1024
_MAGICS = (b"ustar\x0000", b"ustar  \x00")  # POSIX (with its version), and GNU
#: pax keywords that tarfile and GNU tar would apply to an entry; refused rather than risk
#: two readers seeing different names, sizes or links.
_PAX_REFUSED = ("linkpath", "hdrcharset", "GNU.sparse.")
_FIX = "pack the pilot folder again (POSIX pax format, regular files only)"


@dataclass(frozen=True)
class TarHeader:
    """One entry's header: its name (pax path applied), type flag, size and link target."""

    name: str
    type: bytes
    size: int
    linkname: str
    offset: int  # where its header starts in the decompressed stream


def read_headers(read: Callable[[int], bytes], *, max_pax_bytes: int) -> Iterator[TarHeader]:
    """Every entry's header, in order; the caller refuses types and names it does not accept.

    `read(n)` returns n bytes, or fewer at the end. The data of an entry is skipped when the
    next header is asked for; after the last entry the rest of the stream is checked to be
    zeros. Raises ArchiveRefused for anything malformed.
    """
    offset = 0
    pax: dict[str, str] | None = None
    while True:
        block = read(BLOCK)
        if len(block) < BLOCK:
            raise ArchiveRefused(
                f"archive: ends at byte {offset} without the end-of-archive marker "
                f"(truncated); {_FIX}"
            )
        if block == bytes(BLOCK):
            if pax is not None:
                raise ArchiveRefused(f"archive: byte {offset}: an extended header ends it")
            _check_zeros(read, offset + BLOCK)
            return
        header = _parse(block, offset)
        offset += BLOCK
        if header.type == b"x":
            if pax is not None:
                raise ArchiveRefused(
                    f"archive: byte {header.offset}: two extended (pax) headers in a row; {_FIX}"
                )
            if header.size > max_pax_bytes:
                raise ArchiveRefused(
                    f"archive: byte {header.offset}: an extended (pax) header of "
                    f"{header.size} bytes, over the limit of {max_pax_bytes}; {_FIX}"
                )
            raw = _read_exact(read, _padded(header.size), header.offset)[: header.size]
            offset += _padded(header.size)
            pax = _parse_pax(raw, header.offset)
            continue
        if pax is not None:
            header = TarHeader(
                name=pax.get("path", header.name),
                type=header.type,
                size=int(pax["size"]) if "size" in pax else header.size,
                linkname=header.linkname,
                offset=header.offset,
            )
            pax = None
        yield header
        if header.type in (b"0", b"\x00"):  # the caller refuses every other type with data
            _skip(read, _padded(header.size), header)
            offset += _padded(header.size)


def _parse(block: bytes, offset: int) -> TarHeader:
    def fail(problem: str) -> ArchiveRefused:
        return ArchiveRefused(f"archive: byte {offset}: {problem}; {_FIX}")

    magic = block[257:265]
    if magic not in _MAGICS:
        raise fail("not a ustar or pax tar header")
    stored = _octal(block[148:156])
    counted = block[:148] + block[156:]  # the checksum field itself counts as eight spaces
    unsigned = sum(counted) + 8 * 32
    signed = unsigned - 256 * sum(1 for b in counted if b >= 128)  # old tars' signed chars
    if stored is None or stored not in (unsigned, signed):
        raise fail("header checksum mismatch (a damaged or forged header)")
    size = _octal(block[124:136])
    if size is None:
        raise fail("the size field is not an octal number")
    name = _text(block[0:100])
    prefix = _text(block[345:500])  # applied whatever the magic, as tarfile does
    if name is None or prefix is None:
        raise fail("the name is not valid UTF-8")
    linkname = _text(block[157:257])
    return TarHeader(
        name=f"{prefix}/{name}" if prefix else name,
        type=block[156:157],
        size=size,
        linkname=linkname if linkname is not None else "(not UTF-8)",
        offset=offset,
    )


def _octal(field: bytes) -> int | None:
    digits = field.rstrip(b"\x00 ").lstrip(b" ")
    if not digits:
        return 0
    if not all(48 <= b <= 55 for b in digits):  # base-256 sizes exceed every limit anyway
        return None
    return int(digits, 8)


def _text(field: bytes) -> str | None:
    try:
        return field.split(b"\x00", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_pax(raw: bytes, offset: int) -> dict[str, str]:
    """The records of a pax header (``<length> <keyword>=<value>\\n``), strictly."""
    records: dict[str, str] = {}
    position = 0
    while position < len(raw):
        space = raw.find(b" ", position, position + 12)
        length_text = raw[position:space] if space > position else b""
        if not length_text.isdigit():
            raise ArchiveRefused(f"archive: byte {offset}: a malformed pax record; {_FIX}")
        end = position + int(length_text)
        record = raw[space + 1 : end]
        if end > len(raw) or not record.endswith(b"\n") or b"=" not in record:
            raise ArchiveRefused(f"archive: byte {offset}: a malformed pax record; {_FIX}")
        keyword_bytes, _, value_bytes = record[:-1].partition(b"=")
        try:
            keyword, value = keyword_bytes.decode("ascii"), value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveRefused(
                f"archive: byte {offset}: a pax record that is not UTF-8; {_FIX}"
            ) from None
        if keyword in records:
            raise ArchiveRefused(
                f"archive: byte {offset}: pax keyword {shown(keyword)} given twice; {_FIX}"
            )
        if keyword.startswith(_PAX_REFUSED):
            raise ArchiveRefused(
                f"archive: byte {offset}: pax keyword {shown(keyword)} is not accepted "
                f"(links, sparse files and other character sets are refused); {_FIX}"
            )
        if keyword == "size" and not (value.isascii() and value.isdigit() and len(value) <= 20):
            raise ArchiveRefused(f"archive: byte {offset}: pax size {shown(value)}; {_FIX}")
        records[keyword] = value
        position = end
    return records


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _read_exact(read: Callable[[int], bytes], size: int, offset: int) -> bytes:
    data = read(size)
    if len(data) < size:
        raise ArchiveRefused(f"archive: byte {offset}: the archive ends inside an entry")
    return data


def _skip(read: Callable[[int], bytes], size: int, header: TarHeader) -> None:
    """Read past `size` bytes of data in fixed pieces (counted by `read`, never kept)."""
    remaining = size
    while remaining:
        piece = read(min(remaining, _PIECE))
        if not piece:
            raise ArchiveRefused(
                f"archive entry {shown(header.name)}: the archive ends inside its data "
                f"(truncated); {_FIX}"
            )
        remaining -= len(piece)


def _check_zeros(read: Callable[[int], bytes], offset: int) -> None:
    """After the end-of-archive block only zeros may follow (the record padding)."""
    while piece := read(_PIECE):
        if piece.count(0) != len(piece):
            raise ArchiveRefused(
                f"archive: data after the end-of-archive marker (near byte {offset}); "
                "nothing may be hidden after the last entry"
            )
        offset += len(piece)
