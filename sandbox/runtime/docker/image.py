"""Build the runner image without a container registry: Debian packages plus Python wheels.

The recipe, in order:

1. `debootstrap --variant=minbase bookworm` with Debian's `python3` (3.11), cleaned of docs,
   man pages, locales and apt lists, cached as a tarball (the slow step, done once);
2. the wheels of exactly the versions installed on the host (scikit-learn, pandas, pyarrow,
   LightGBM, XGBoost (CPU-only), ONNX Runtime, skops and their closure) installed into
   `/opt/sandbox/lib` with `pip install --target --only-binary`, so results reproduce bit for
   bit between host and container; the host installs them (extra `runner`) only to pin them,
   and never imports them;
3. a city's own wheels, if `SANDBOX_EXTRA_WHEELS` names a folder of `.whl` files, installed
   from that folder alone (no index, no dependencies resolved: the folder must hold them all);
4. the harness, its model loaders, its input reader and the assistant harness copied to
   `/opt/sandbox/`, everything byte-compiled (the root file system is read-only at run time),
   setuid/setgid bits stripped;
5. the tree imported with `docker import` under a content-addressed tag: a rebuild is skipped
   when the tag exists, and any change to the recipe, the pins, the extra wheels' bytes or the
   harness makes a new tag.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sandbox.errors import RuntimeUnavailable, UserInputError
from sandbox.host_python import module_command

__all__ = [
    "IMAGE_REPOSITORY",
    "build_runner_image",
    "default_image_tag",
    "image_exists",
    "pinned_wheels",
]

IMAGE_REPOSITORY = "ai-commons-sandbox/runner"
RECIPE_VERSION = "3"  # 3: files readable by the container user under any build umask
DEBIAN_SUITE = "bookworm"
# libgomp1: LightGBM links the system's OpenMP runtime (scikit-learn and XGBoost bundle theirs).
DEBIAN_PACKAGES = ("python3", "libgomp1")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
WHEEL_ROOTS = (
    "scikit-learn",
    "pandas",
    "pyarrow",
    "lightgbm",
    "xgboost-cpu",
    "onnxruntime",
    "skops",
)
HARNESS_PATH = Path(__file__).parents[1] / "harness.py"
#: Standalone modules the harness loads from beside itself in the image.
HARNESS_MODULES = tuple(
    Path(__file__).parents[1] / name
    for name in ("model_loaders.py", "input_tables.py", "assistant_harness.py")
)
EXTRA_WHEELS_VARIABLE = "SANDBOX_EXTRA_WHEELS"

# Wheels are built for glibc; Debian bookworm ships glibc 2.36.
_GLIBC_MINOR_MAX = 36
_TARGET_MARKERS = {
    "implementation_name": "cpython",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.11.2",
    "python_version": "3.11",
    "sys_platform": "linux",
}
# Removed from the image: nothing in it reads them, and less is less to audit.
_PRUNED = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/common-licenses",
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/cache/debconf",
    "var/log",
)
_IMAGE_CHANGES = (
    "ENV PYTHONPATH=/opt/sandbox/lib",
    "ENV PYTHONDONTWRITEBYTECODE=1",
    "ENV LANG=C.UTF-8",
    "USER 65534:65534",
    "WORKDIR /",
    'CMD ["python3", "/opt/sandbox/harness.py"]',
)

Progress = Callable[[str], None]


def pinned_wheels(roots: Iterable[str] = WHEEL_ROOTS) -> dict[str, str]:
    """The host's installed version of every distribution the runner needs (roots + closure)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    pending = [canonicalize_name(name) for name in roots]
    while pending:
        name = pending.pop()
        if name in pins:
            continue
        try:
            pins[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise RuntimeUnavailable(
                f"runner image: '{name}' is needed in the image but not installed on the host; "
                "fix: pip install -e . (the image pins the host's versions)"
            ) from exc
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(
                {**_TARGET_MARKERS, "extra": ""}
            ):
                pending.append(canonicalize_name(requirement.name))
    return dict(sorted(pins.items()))


def extra_wheels() -> dict[str, str]:
    """The city's own wheels (`SANDBOX_EXTRA_WHEELS`): file name -> sha256; empty when unset."""
    folder = os.environ.get(EXTRA_WHEELS_VARIABLE, "").strip()
    if not folder:
        return {}
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserInputError(
            f"{EXTRA_WHEELS_VARIABLE}={folder}: not a folder; fix: point it at a folder of "
            ".whl files, or unset it"
        )
    wheels = sorted(p for p in path.iterdir() if p.suffix == ".whl" and p.is_file())
    if not wheels:
        raise UserInputError(f"{EXTRA_WHEELS_VARIABLE}={folder}: holds no .whl files")
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in wheels}


def default_image_tag() -> str:
    """The content-addressed tag of the runner image this checkout would build."""
    return f"{IMAGE_REPOSITORY}:py311-{_recipe_digest(pinned_wheels(), extra_wheels())[:12]}"


def image_exists(tag: str | None = None) -> bool:
    """Whether the local engine already holds `tag` (default: `default_image_tag()`)."""
    from sandbox.runtime.docker.runtime import DockerRuntime

    return DockerRuntime().has_image(tag or default_image_tag())


@contextlib.contextmanager
def _image_umask() -> Iterator[None]:
    """Create the image's files readable by all, whatever the sandbox's own private umask.

    The sandbox runs with umask 077 so that a run's files stay private to the operator; the
    image is the opposite case: the container's unprivileged user must read what the build
    (pip, the copied harness, compileall, debootstrap) writes into it.
    """
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def build_runner_image(*, force: bool = False, progress: Progress | None = None) -> str:
    """Build (or find) the runner image and return its tag; needs root and debootstrap."""
    with _image_umask():
        return _build_runner_image(force=force, progress=progress)


def _build_runner_image(*, force: bool, progress: Progress | None) -> str:
    from sandbox.runtime.docker.runtime import DockerRuntime

    say = progress or (lambda _line: None)
    pins = pinned_wheels()
    extras = extra_wheels()
    digest = _recipe_digest(pins, extras)
    tag = f"{IMAGE_REPOSITORY}:py311-{digest[:12]}"
    runtime = DockerRuntime()
    if not force and runtime.has_image(tag):
        say(f"runner image {tag} already built")
        return tag
    _check_build_host()
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    base = _base_rootfs(cache, say)
    with tempfile.TemporaryDirectory(prefix="runner-build-", dir=cache) as work:
        rootfs = Path(work) / "rootfs"
        rootfs.mkdir()
        say("unpacking the cached Debian root file system")
        _run(["tar", "-xpf", str(base), "--numeric-owner", "-C", str(rootfs)])
        say(f"installing {len(pins)} pinned wheels into /opt/sandbox/lib")
        _install_wheels(rootfs, pins)
        if extras:
            say(f"installing {len(extras)} wheels from {EXTRA_WHEELS_VARIABLE}")
            _install_extra_wheels(rootfs, extras)
        for source in (HARNESS_PATH, *HARNESS_MODULES):
            shutil.copyfile(source, rootfs / "opt/sandbox" / source.name)
        (rootfs / "opt/sandbox/BUILD.json").write_text(
            json.dumps(_recipe(pins, extras), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        say("byte-compiling (the root file system is read-only at run time)")
        _run(
            [
                "chroot",
                str(rootfs),
                "/usr/bin/python3",
                "-m",
                "compileall",
                "-q",
                "-j0",
                "--invalidation-mode",
                "unchecked-hash",
                "/usr/lib/python3.11",
                "/opt/sandbox",
            ]
        )
        _harden_tree(rootfs)
        image_tar = Path(work) / "rootfs.tar"
        say("packing the root file system")
        _run(["tar", "-cf", str(image_tar), "--numeric-owner", "-C", str(rootfs), "."])
        say(f"importing into the engine as {tag}")
        runtime.import_rootfs(
            image_tar,
            tag=tag,
            changes=[*_IMAGE_CHANGES, f"LABEL ai-commons-sandbox.recipe={digest}"],
        )
    say(f"runner image {tag} built")
    return tag


def _recipe(pins: dict[str, str], extras: dict[str, str]) -> dict[str, object]:
    recipe: dict[str, object] = {
        "recipe_version": RECIPE_VERSION,
        "debian_suite": DEBIAN_SUITE,
        "debian_packages": list(DEBIAN_PACKAGES),
        "wheels": pins,
        "harness_sha256": hashlib.sha256(HARNESS_PATH.read_bytes()).hexdigest(),
        "harness_modules_sha256": {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in HARNESS_MODULES
        },
        "changes": list(_IMAGE_CHANGES),
    }
    if extras:  # absent when unset, so the recipe of a plain image does not depend on it
        recipe["extra_wheels"] = extras
    return recipe


def _recipe_digest(pins: dict[str, str], extras: dict[str, str] | None = None) -> str:
    canonical = json.dumps(_recipe(pins, extras or {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _cache_dir() -> Path:
    if home := os.environ.get("SANDBOX_HOME"):
        return Path(home).expanduser() / "cache" / "runner"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "ai-commons-sandbox" / "runner"


def _check_build_host() -> None:
    if sys.platform != "linux" or os.geteuid() != 0:
        raise UserInputError(
            "building the runner image needs root on Linux (debootstrap and chroot); "
            "fix: run `sandbox image build` as root, or on a Debian/Ubuntu build machine"
        )
    for tool in ("debootstrap", "chroot", "tar"):
        if shutil.which(tool) is None:
            raise RuntimeUnavailable(
                f"building the runner image needs '{tool}', which is not on PATH; "
                "fix: apt-get install debootstrap"
            )


def _base_rootfs(cache: Path, say: Progress) -> Path:
    """The debootstrapped and cleaned Debian tree as a cached tarball (built once)."""
    key = hashlib.sha256(
        json.dumps([RECIPE_VERSION, DEBIAN_SUITE, DEBIAN_PACKAGES, sorted(_PRUNED)]).encode()
    ).hexdigest()[:12]
    tarball = cache / f"debian-{DEBIAN_SUITE}-minbase-{key}.tar"
    if tarball.exists():
        say(f"using the cached Debian root file system {tarball.name}")
        return tarball
    mirror = os.environ.get("SANDBOX_DEBIAN_MIRROR", DEFAULT_MIRROR)
    with tempfile.TemporaryDirectory(prefix="debootstrap-", dir=cache) as work:
        rootfs = Path(work) / "rootfs"
        say(f"debootstrap {DEBIAN_SUITE} from {mirror} (a few minutes, done once)")
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(DEBIAN_PACKAGES)}",
                DEBIAN_SUITE,
                str(rootfs),
                mirror,
            ],
            hint=f"check that {mirror} is reachable, or set SANDBOX_DEBIAN_MIRROR",
        )
        for relative in _PRUNED:
            target = rootfs / relative
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        partial = tarball.with_suffix(".partial")
        _run(["tar", "-cf", str(partial), "--numeric-owner", "-C", str(rootfs), "."])
        partial.replace(tarball)  # atomic: a crash never leaves a half tarball in the cache
    return tarball


def _install_wheels(rootfs: Path, pins: dict[str, str]) -> None:
    target = rootfs / "opt/sandbox/lib"
    target.mkdir(parents=True)
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(_GLIBC_MINOR_MAX, 16, -1)]
    command = [
        *module_command("pip"),
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--target",
        str(target),
        "--only-binary=:all:",
        *(
            arg
            for platform in [*platforms, "manylinux2014_x86_64"]
            for arg in ("--platform", platform)
        ),
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--no-deps",
        "--no-compile",
        *(f"{name}=={version}" for name, version in pins.items()),
    ]
    _run(command, hint="check that the Python package index is reachable (pip config)")
    # Console scripts point at the host's interpreter and are never run in the container.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _install_extra_wheels(rootfs: Path, extras: dict[str, str]) -> None:
    """Install the city's wheels from their folder only: no index, no dependency resolution."""
    folder = Path(os.environ[EXTRA_WHEELS_VARIABLE]).expanduser()
    command = [
        *module_command("pip"),
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-index",
        "--no-deps",
        "--no-compile",
        "--target",
        str(rootfs / "opt/sandbox/lib"),
        "--upgrade",
        *(str(folder / name) for name in extras),
    ]
    _run(command, hint=f"each wheel in {folder} must be built for CPython 3.11 on Linux x86_64")
    shutil.rmtree(rootfs / "opt/sandbox/lib/bin", ignore_errors=True)


def _harden_tree(rootfs: Path) -> None:
    """Strip setuid/setgid bits; make the sandbox's own tree readable by the container's user."""
    ours = rootfs / "opt/sandbox"
    for directory, dirs, files in os.walk(rootfs):
        readable = Path(directory).is_relative_to(ours)
        if readable:
            for name in dirs:
                folder = Path(directory) / name
                if not folder.is_symlink():
                    folder.chmod(stat.S_IMODE(folder.lstat().st_mode) | 0o755)
        for name in files:
            path = Path(directory) / name
            mode = path.lstat().st_mode
            if not stat.S_ISREG(mode):
                continue
            bits = stat.S_IMODE(mode) & ~(stat.S_ISUID | stat.S_ISGID)
            wanted = bits | 0o444 if readable else bits
            if wanted != stat.S_IMODE(mode):
                path.chmod(wanted)
    if ours.is_dir():
        ours.chmod(0o755)


def _run(command: list[str], *, hint: str = "") -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout)[-2000:]
        tail = re.sub(r"\s+\n", "\n", tail).strip()
        raise RuntimeUnavailable(
            f"runner image build step failed (exit {completed.returncode}): "
            f"{' '.join(command[:4])} ...\n{tail}" + (f"\nfix: {hint}" if hint else "")
        )
