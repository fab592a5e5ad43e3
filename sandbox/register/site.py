"""Writing the register: a static, self-contained site and its JSON, the same bytes each time.

    DIR/index.html                     every entry: name, organisation, status, verdict, links
    DIR/entries/<id>.html              one page per entry: the standard's fields with their
                                       sources, the gaps, group representation (small cells
                                       suppressed), the approval and the evidence
    DIR/entries/<id>.json              the entry in the Dutch standard's shape
    DIR/entries/<id>.atrs.json         the UK ATRS record
    DIR/register.json                  every entry with sources, gaps and file links
    DIR/evidence/<id>/...              records, inclusion proofs, attestation (evidence.py)
    DIR/checkpoint.json, DIR/keys/     the signed checkpoint and the public keys

Pages have no scripts and inline CSS; Jinja's autoescaping escapes every string. JSON keeps
the declared order and holds no time of building, so the same trail gives the
same files. The site is written into a new sibling folder and swapped in whole, so an entry
that was withdrawn since the last build leaves no file behind.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sandbox.audit.keyring import key_file_name
from sandbox.errors import UserInputError
from sandbox.register.definitions import definitions
from sandbox.register.entry import Entry

if TYPE_CHECKING:
    from sandbox.audit.checkpoint import Checkpoint
    from sandbox.audit.signing import Verifier

__all__ = ["REGISTER_FORMAT", "register_document", "write_site"]

REGISTER_FORMAT: Final = "ai-commons-sandbox/register/v1"
_TEMPLATES: Final = Path(__file__).parent / "templates"
_MARKER: Final = "register.json"


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def register_document(entries: Sequence[Entry], checkpoint: Checkpoint | None) -> dict[str, Any]:
    """What register.json holds."""
    defs = definitions()
    return {
        "format": REGISTER_FORMAT,
        "standard": {"name": defs.standard, "version": defs.version, "source": defs.source},
        "checkpoint": checkpoint.unsigned() | {"sig": checkpoint.sig} if checkpoint else None,
        "entries": [e.summary for e in entries],
    }


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # A field that allows HTML holds escaped text; shown as text, escaped once by autoescape.
    env.filters["unescape_html"] = html.unescape
    return env


def _signers(entry: Entry) -> set[str]:
    ids = {r.key_id for r in entry.approval.records}
    return ids | {str(s.get("keyid")) for s in entry.attestation.get("signatures", [])}


def _files(
    entries: Sequence[Entry], checkpoint: Checkpoint | None, keys: Mapping[str, Verifier]
) -> dict[str, bytes]:
    env = _environment()
    css = (_TEMPLATES / "register.css").read_text(encoding="utf-8")
    defs = definitions()
    files: dict[str, bytes] = {}
    signers: set[str] = set()
    for e in entries:
        base = e.summary["files"]
        files[base["algoritmeregister"]] = _json(e.standard)
        files[base["atrs"]] = _json(e.atrs)
        files[base["records"]] = b"".join(r.canonical() + b"\n" for r in e.approval.records)
        files[base["proofs"]] = _json(e.proofs)
        files[base["attestation"]] = _json(e.attestation)
        files[base["page"]] = (
            env.get_template("entry.html.j2")
            .render(css=css, e=e.summary, fields=defs.fields, atrs=e.atrs, checkpoint=checkpoint)
            .encode()
        )
        signers |= _signers(e)
    if checkpoint is not None:
        files["checkpoint.json"] = checkpoint.canonical()
        signers.add(checkpoint.key_id)
    key_files = {}
    for key_id in sorted(signers & set(keys)):
        key_files[key_id] = f"keys/{key_file_name(key_id)}"
        files[key_files[key_id]] = keys[key_id].public_key_pem()
    files["register.json"] = _json(register_document(entries, checkpoint))
    files["index.html"] = (
        env.get_template("index.html.j2")
        .render(
            css=css,
            entries=[e.summary for e in entries],
            checkpoint=checkpoint,
            keys=key_files,
            standard=defs,
        )
        .encode()
    )
    return files


def write_site(
    out: Path,
    entries: Sequence[Entry],
    checkpoint: Checkpoint | None,
    keys: Mapping[str, Verifier],
) -> None:
    """Write the site into `out`, replacing an earlier register there (and only one)."""
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).is_file():
        raise UserInputError(
            f"{out}: the folder holds files but no earlier register ({_MARKER}); give --out a "
            "new or empty folder, or the folder of an earlier build"
        )
    files = _files(entries, checkpoint, keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = out.with_name(f".{out.name}.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    for name, data in sorted(files.items()):
        path = fresh / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    fresh.rename(out)
    shutil.rmtree(old, ignore_errors=True)
