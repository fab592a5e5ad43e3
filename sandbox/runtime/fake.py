"""An in-memory `Runtime` for tests of the run pipeline, like httpx's `MockTransport`.

    def handler(spec: ContainerSpec) -> dict[str, bytes]:
        return {"predictions.csv": b"row_id,prediction\\n1,0\\n"}

    runtime = FakeRuntime(handler)

The handler sees each `ContainerSpec` and returns the files the "container" wrote (or a
`FakeOutcome` to also choose the terminal state and the output tails). No engine is involved.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.errors import RuntimeUnavailable
from sandbox.runtime.base import ContainerResult, ContainerSpec, LeftoverResources, TerminalState
from sandbox.runtime.outputs import copy_out

__all__ = ["FakeOutcome", "FakeRuntime"]


@dataclass(frozen=True, kw_only=True)
class FakeOutcome:
    """What a fake run ends with: state, exit code, tails and the files written to /output."""

    files: dict[str, bytes] = field(default_factory=dict)
    state: TerminalState = "succeeded"
    exit_code: int | None = None  # default: 0 when succeeded, 1 when failed, else None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.01


Handler = Callable[[ContainerSpec], "FakeOutcome | dict[str, bytes]"]


class FakeRuntime:
    """Records the specs it is given and "runs" them through `handler`."""

    def __init__(self, handler: Handler, *, images: dict[str, str] | None = None) -> None:
        self.handler = handler
        self.specs: list[ContainerSpec] = []
        self._images = images  # tag -> digest; None accepts every image

    def image_digest(self, image: str) -> str:
        """A stable fake digest of `image`; RuntimeUnavailable if `images` does not list it."""
        if self._images is None:
            return "sha256:" + hashlib.sha256(f"fake-image:{image}".encode()).hexdigest()
        if image not in self._images:
            raise RuntimeUnavailable(f"image {image} is not on the fake engine")
        return self._images[image]

    def run(self, spec: ContainerSpec) -> ContainerResult:
        """Call the handler, then check and copy its files exactly as the real runtime does."""
        self.specs.append(spec)
        digest = self.image_digest(spec.image)
        outcome = self.handler(spec)
        if not isinstance(outcome, FakeOutcome):
            outcome = FakeOutcome(files=outcome)
        exit_code = outcome.exit_code
        if exit_code is None and outcome.state in ("succeeded", "failed"):
            exit_code = 0 if outcome.state == "succeeded" else 1
        files: dict[str, str] = {}
        if outcome.state == "succeeded":
            files = copy_out(
                [_tar_of(outcome.files)], spec.output_dir, spec.output_limits, root="output"
            )
        return ContainerResult(
            state=outcome.state,
            exit_code=exit_code,
            image_digest=digest,
            container_id=f"fake-{len(self.specs)}",
            duration_s=outcome.duration_s,
            stdout_tail=outcome.stdout,
            stderr_tail=outcome.stderr,
            output_dir=spec.output_dir,
            output_files=files,
        )

    def start(self, spec: ContainerSpec) -> _Deferred:
        """A fake container started: the handler is called when it is finished."""
        return _Deferred(self, spec)

    def remove_leftovers(self, *, run_id: str | None = None) -> LeftoverResources:
        """Nothing outlives a fake run: there is never anything to remove."""
        return LeftoverResources()


@dataclass(frozen=True)
class _Deferred:
    runtime: FakeRuntime
    spec: ContainerSpec

    def finish(self) -> ContainerResult:
        return self.runtime.run(self.spec)

    def discard(self) -> None:
        """Nothing was started."""


def _tar_of(files: dict[str, bytes]) -> bytes:
    """The tar stream an engine would hand back for an /output holding `files`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        root = tarfile.TarInfo("output")
        root.type = tarfile.DIRTYPE
        root.mode = 0o1777
        archive.addfile(root)
        for name, data in sorted(files.items()):
            member = tarfile.TarInfo(f"output/{name}")
            member.size = len(data)
            member.mode = 0o644
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()
