"""Where a policy pack comes from, and so what it may change.

    builtin   shipped with the sandbox (`sandbox/policies/packs/<id>/pack.yaml`)
    city      the operator's folder of mandatory packs (`SANDBOX_CITY_PACKS`, `<id>/pack.yaml`)
    pilot     a pack file in a pilot folder, or a file an operator names on the command line

Built-in and city packs are reached by name only, and a pilot's pack can never take one of
their ids. A pack file is found inside the folder of the pack or manifest that names it
(`sandbox.confinement`), and takes the origin of whatever named it, so a built-in or city pack
can split itself into files, and a pilot's file stays a pilot's file.

A pack may change a rule it inherits freely only when its origin has at least the authority of
the rule's author (`AUTHORITY`); otherwise the change must tighten the rule
(`sandbox.policies.tightening`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from sandbox.confinement import confine
from sandbox.errors import PolicyPackError

__all__ = [
    "AUTHORITY",
    "Origin",
    "PackSource",
    "builtin_pack_dir",
    "builtin_pack_names",
    "city_pack_dir",
    "city_pack_names",
    "locate",
]

Origin = Literal["builtin", "city", "pilot"]
#: Who may loosen whose rules: the city's operator configures the sandbox, the built-in packs
#: are its defaults, a pilot is governed by both.
AUTHORITY: dict[Origin, int] = {"pilot": 0, "builtin": 1, "city": 2}


@dataclass(frozen=True)
class PackSource:
    """A pack file, where it comes from, and the folder the files it names must stay in."""

    path: Path
    origin: Origin
    root: Path


def builtin_pack_dir(name: str) -> Path:
    """The folder of a built-in pack (its pack.yaml, samples and suite)."""
    return _builtin_root() / name


def builtin_pack_names() -> list[str]:
    """Names of the packs shipped with the sandbox."""
    root = _builtin_root()
    return sorted(p.name for p in root.iterdir() if (p / "pack.yaml").is_file())


def city_pack_dir() -> Path | None:
    """The operator's folder of mandatory city packs (`SANDBOX_CITY_PACKS`), if configured."""
    from sandbox.settings import Settings

    return Settings().city_packs


def city_pack_names() -> list[str]:
    """Names of the configured city packs; every one of them applies to every pilot."""
    folder = city_pack_dir()
    if folder is None:
        return []
    if not folder.is_dir():
        raise PolicyPackError(
            f"SANDBOX_CITY_PACKS: {folder} is not a folder; create it, or unset the setting"
        )
    names = sorted(p.name for p in folder.iterdir() if (p / "pack.yaml").is_file())
    clash = sorted(set(names) & set(builtin_pack_names()))
    if clash:
        raise PolicyPackError(
            f"SANDBOX_CITY_PACKS: {folder}: {', '.join(clash)} is the name of a built-in pack; "
            "give the city pack a name of its own and `extends:` the built-in one"
        )
    return names


def locate(
    name: str, *, named_by: PackSource | None, named_in: Path | None, field: str
) -> PackSource:
    """The pack a name or a file names, as written in `field` of `named_in`.

    `named_by` is the pack whose `extends` names it; None for a manifest's or the operator's
    own list (then `named_in`'s folder is the pilot folder; None: a path given by the operator).
    """
    if name in builtin_pack_names():
        root = _builtin_root()
        return PackSource(root / name / "pack.yaml", "builtin", root)
    city = city_pack_dir()
    if city is not None and name in city_pack_names():
        root = city.resolve()
        return PackSource(root / name / "pack.yaml", "city", root)
    origin: Origin = "pilot"
    if named_by is not None:
        origin, root, where = named_by.origin, named_by.root, named_by.path
        folder = named_by.path.parent
    elif named_in is not None:
        root = folder = named_in.parent.resolve()
        where = named_in
    else:
        path = Path(name).resolve()  # the operator's own file, named on the command line
        if not path.is_file():
            raise PolicyPackError(f"{name}: no such pack file, nor a built-in or city pack name")
        return PackSource(path, origin, path.parent)
    relative = (folder.relative_to(root) / name).as_posix()
    path = confine(root, relative, field=field, where=where, error=PolicyPackError)
    if not path.is_file():
        raise PolicyPackError(
            f"{where}: {field}: {name!r} is neither a built-in pack "
            f"({', '.join(builtin_pack_names())}), a city pack, nor a pack file in that folder"
        )
    return PackSource(path, origin, root)


def _builtin_root() -> Path:
    return Path(str(resources.files("sandbox.policies") / "packs")).resolve()
