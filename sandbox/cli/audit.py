"""`sandbox audit ...`: verify the trail, checkpoint it, export and verify evidence bundles,
audit predictions alone, replay a run, and manage the signing keys.

Exit codes: 0 verified / reproduced / passed, 1 does not verify / does not reproduce or an
unexpected failure, 2 bad input, 3 (evaluate) the audit completed with a fail verdict.
`verify` and `verify-bundle` print which keys they trusted: "trusted: pinned" (keys given
with --trusted-key / --keys) or, with a warning on stderr, "trusted: local" (the sandbox's
key folder) and "trusted: bundle" (the bundle's own keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import console, errors
from sandbox.errors import SandboxError, UserInputError

if TYPE_CHECKING:
    from sandbox.audit.anchor import KeyChain
    from sandbox.audit.store import TrailStore
    from sandbox.audit.trail import AuditTrail
    from sandbox.settings import Settings

__all__ = ["app"]

app = typer.Typer(
    help="Verify the signed audit trail, export and check evidence bundles, replay runs.",
    no_args_is_help=True,
)

KeysOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--keys",
        help="Pin every public key (*.pub) in this folder, e.g. the city's `export-keys`.",
    ),
]
TrustedKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--trusted-key",
        "--public-key",
        help="Pin this public key (PEM); repeat for several. Other keys are trusted only "
        "through signed rotation records from a pinned one.",
    ),
]
HeldOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="A signed checkpoint you hold (repeatable): the trail must still match it.",
    ),
]


def _settings() -> Settings:
    """The sandbox's settings, loaded when a command runs (never for `--help`)."""
    from sandbox.settings import Settings

    return Settings()


def _store(settings: Settings) -> TrailStore:
    """The trail's store: the file under the home, or the database SANDBOX_TRAIL_URL names."""
    from sandbox.audit.store import open_store

    return open_store(settings.trail_url, default=settings.trail_path)


def _trail(settings: Settings) -> AuditTrail:
    from sandbox.audit.signing import Signer
    from sandbox.audit.trail import AuditTrail

    return AuditTrail(_store(settings), Signer.load_or_create(settings.key_path))


def _pinned(files: list[Path] | None, folders: list[Path] | None) -> KeyChain | None:
    """The key chain rooted in the keys given on the command line; None when none is."""
    from sandbox.audit.anchor import pinned_chain

    if not files and not folders:
        return None
    return pinned_chain(list(files or ()), list(folders or ()))


def _first_key_id(source: Path | TrailStore) -> str | None:
    from sandbox.audit.trail import iter_records

    try:
        records = iter_records(source) if isinstance(source, Path) else source.records_from(0)
        first = next(records, None)
    except SandboxError:
        return None  # verification names the bad line
    return first.key_id if first is not None else None


def _print_trust(chain: KeyChain) -> None:
    """Say which keys were trusted and where they came from; warn when nothing was pinned."""
    console.print(f"trusted: {chain.source} ({escape(chain.anchor)})")
    for line in chain.describe():
        console.print(f"  key {escape(line)}")
    if chain.source != "pinned":
        what = "the local key folder" if chain.source == "local" else "the bundle's own keys"
        errors.print(
            f"[yellow]warning:[/] no key was pinned: the trust anchor is {what} "
            f"({escape(chain.anchor)}); whoever can replace the "
            f"{'trail and that folder' if chain.source == 'local' else 'bundle'} can forge "
            "this result. Pin the city's published keys: --trusted-key FILE or --keys DIR."
        )


@app.command("verify")
def audit_verify(
    trail: Annotated[Path | None, typer.Option(help="Trail file; default: the sandbox's.")] = None,
    trusted_key: TrustedKeyOption = None,
    keys: KeysOption = None,
    checkpoint: HeldOption = None,
) -> None:
    """Verify every signature and hash link of the audit trail; exit 1 at the first bad record.

    Prints which keys it trusted ("trusted: pinned" or "trusted: local").
    """
    from sandbox.audit.checkpoint import read_checkpoint, verify_against_checkpoints
    from sandbox.audit.keyring import local_chain
    from sandbox.audit.trail import verify_trail

    settings = _settings()
    path = trail or settings.trail_path
    source: Path | TrailStore = path
    if trail is None and settings.trail_url:
        source = _store(settings)
    elif not path.is_file():
        raise SandboxError(f"{path}: no audit trail yet; run a pilot first (sandbox demo)")
    trail_path = source if isinstance(source, Path) else source.location
    chain = _pinned(trusted_key, keys) or local_chain(settings.key_path, _first_key_id(source))
    if chain.source == "local" and not chain:
        raise UserInputError(
            f"no public key in {settings.key_path.parent} signed the trail's first record; "
            "pass --trusted-key or --keys"
        )
    held = [read_checkpoint(path) for path in checkpoint or ()]
    if held:
        outcomes = verify_against_checkpoints(source, held, chain)
        result = outcomes[0].trail
    else:
        outcomes, result = [], verify_trail(source, chain)
    failed = [(path, o) for path, o in zip(checkpoint or (), outcomes, strict=True) if not o.ok]
    if result is not None and result.ok and not failed:
        console.print(
            f"[green]✓ trail verified[/]: {result.records_checked} records, "
            f"head {result.head_hash}\n  {trail_path}"
        )
        for path, o in zip(checkpoint or (), outcomes, strict=True):
            cp = o.checkpoint
            console.print(
                f"[green]✓ checkpoint held[/] {escape(str(path))}: the trail still holds its "
                f"{cp.trail_size} records (head {cp.head_hash}, root {cp.tree_root or 'none, v1'}"
                f"), signed by {cp.key_id} ({cp.time})"
            )
        _print_trust(chain)
        return
    if failed:
        path, o = failed[0]
        errors.print(
            f"[red]✗ trail does NOT verify against the checkpoint[/] {escape(str(path))}: "
            f"{escape(o.reason or '')}\n  {trail_path}"
        )
    elif result is not None:
        errors.print(
            f"[red]✗ trail does NOT verify[/] at line {result.first_bad_line}"
            f" (seq {result.first_bad_seq}): {escape(result.reason or '')}\n  {trail_path}"
        )
    _print_trust(chain)
    raise typer.Exit(1)


@app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path | None, typer.Option(help="Folder to write to; default: <home>/audit/checkpoints.")
    ] = None,
) -> None:
    """Sign the trail's current size and head hash into a checkpoint file to hand out."""
    from sandbox.audit.checkpoint import checkpoints_dir_for, read_checkpoint, write_checkpoint
    from sandbox.audit.keyring import load_keyring

    settings = _settings()
    trail = _trail(settings)
    path = write_checkpoint(
        trail,
        trail.signer,
        out or checkpoints_dir_for(settings.trail_path),
        keys=load_keyring(settings.key_path),
    )
    cp = read_checkpoint(path)
    console.print(
        f"[green]✓ checkpoint written[/]: {cp.trail_size} records, head {cp.head_hash}, "
        f"Merkle root {cp.tree_root}, signed by {cp.key_id}\n  {path}\nKeep a copy "
        f"elsewhere; check the trail against it with: sandbox audit verify --checkpoint {path.name}"
    )


@app.command("export")
def audit_export(
    run_id: Annotated[str, typer.Argument(help="The run id (a folder under <home>/runs).")],
    out: Annotated[
        Path | None, typer.Option(help="Bundle file; default: ./sandbox-bundle-<run>.tar.gz.")
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint the auditor holds (repeatable): the bundle proves it extends it.",
        ),
    ] = None,
) -> None:
    """Write one archive with RUN_ID's evidence, and only its records, to verify elsewhere."""
    from sandbox.audit.bundle import export_bundle
    from sandbox.audit.checkpoint import checkpoints_dir_for, read_checkpoint
    from sandbox.audit.keyring import load_keyring

    settings = _settings()
    path = export_bundle(
        run_id,
        runs_dir=settings.runs_dir,
        trail=_trail(settings),
        keys=load_keyring(settings.key_path),
        checkpoints_dir=checkpoints_dir_for(settings.trail_path),
        out=out,
        held=[read_checkpoint(p) for p in checkpoint or ()],
    )
    console.print(
        f"[green]✓ bundle written[/]: {path}\nVerify it anywhere: sandbox audit verify-bundle "
        f"{path.name} --trusted-key <the city's published key>"
    )


@app.command("verify-bundle")
def audit_verify_bundle(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `sandbox audit export`.")],
    trusted_key: TrustedKeyOption = None,
    keys: KeysOption = None,
    checkpoint: HeldOption = None,
) -> None:
    """Verify an evidence bundle with nothing but the bundle; exit 1 naming the first problem.

    Prints which keys it trusted ("trusted: pinned" or "trusted: bundle").
    """
    from sandbox.audit.bundle import verify_bundle
    from sandbox.audit.checkpoint import read_checkpoint

    if not bundle.is_file():
        raise UserInputError(f"{bundle}: no such file")
    held = [read_checkpoint(path) for path in checkpoint or ()]
    result = verify_bundle(bundle, trusted_keys=_pinned(trusted_key, keys), held=held)
    for check in result.checks:
        console.print(f"[green]✓[/] {escape(check)}")
    if not result.ok:
        errors.print(
            f"[red]✗ bundle does NOT verify[/]: {escape(result.problem or '')}\n  {bundle}"
        )
    else:
        console.print(f"[green]✓ bundle verified[/]: run {result.run_id}\n  {bundle}")
    cp = result.checkpoint
    if cp is not None:
        console.print(
            f"checkpoint: trail size {cp.trail_size}, head {cp.head_hash}, root {cp.tree_root} "
            f"({cp.time})"
        )
    console.print(f"trusted: {result.trusted}")
    for line in result.trusted_keys:
        console.print(f"  key {escape(line)}")
    if result.trusted != "pinned":
        errors.print(
            "[yellow]warning:[/] no key was pinned: the bundle was checked with its own keys "
            f"({', '.join(result.key_ids)}), which proves it intact, not who made it. Pin the "
            "city's published keys: --trusted-key FILE or --keys DIR."
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("replay")
def audit_replay(
    run_id: Annotated[str, typer.Argument(help="The run id to re-run.")],
    pilot: Annotated[
        Path | None,
        typer.Option(help="The pilot folder, to re-evaluate the metrics on the held-back rows."),
    ] = None,
) -> None:
    """Re-run RUN_ID from its recorded inputs, code and image; say whether it reproduces."""
    from sandbox.runs.replay import replay_run
    from sandbox.runs.services import build_services

    outcome = replay_run(run_id, build_services(_settings()), pilot_dir=pilot)
    for c in outcome.outputs:
        mark = "[green]=[/]" if c.same else "[red]≠[/]"
        console.print(f"{mark} {c.name}: recorded {c.recorded} replayed {c.replayed}")
    if outcome.metrics_compared is not None:
        differing = len(outcome.metrics_differing)
        console.print(f"metrics: {outcome.metrics_compared} compared, {differing} differ")
        for name in outcome.metrics_differing[:20]:
            console.print(f"  [red]≠[/] {name}")
    for note in outcome.notes:
        console.print(f"note: {escape(note)}")
    if outcome.reproduced:
        console.print(
            f"[green]✓ run {run_id} reproduced[/] bit for bit (image {outcome.image_digest}); "
            f"trail seq {outcome.record_seq}"
        )
        return
    errors.print(
        f"[red]✗ run {run_id} did NOT reproduce[/] (container {outcome.container_state}); "
        f"details in {outcome.replay_dir / 'replay.json'}"
    )
    raise typer.Exit(1)


@app.command("rotate-key")
def audit_rotate_key() -> None:
    """Retire the signing key and start a new one; older records keep verifying."""
    from sandbox.audit.checkpoint import checkpoints_dir_for, write_checkpoint
    from sandbox.audit.keyring import keyring_dir, load_keyring, rotate_key

    settings = _settings()
    store = _store(settings)
    rotation = rotate_key(store, settings.key_path, actor=settings.who)
    from sandbox.audit.trail import AuditTrail

    checkpoint = write_checkpoint(
        AuditTrail(store, rotation.signer),
        rotation.signer,
        checkpoints_dir_for(settings.trail_path),
        keys=load_keyring(settings.key_path),
    )
    console.print(
        f"[green]✓ key rotated[/]: {rotation.old_key_id} -> {rotation.new_key_id} "
        f"(trail seq {rotation.record.seq})\n  public keys kept in "
        f"{keyring_dir(settings.key_path)}\n  checkpoint {checkpoint}\n"
        "Publish the new public key: sandbox audit export-keys DIR"
    )


@app.command("export-keys")
def audit_export_keys(
    dest: Annotated[Path, typer.Argument(help="Folder to write the public keys into.")],
) -> None:
    """Write every public key (current and retired) and an index keys.json into DEST."""
    from sandbox.audit.keyring import export_public_keys, load_keyring
    from sandbox.audit.signing import Verifier, public_key_path_for

    settings = _settings()
    keys = load_keyring(settings.key_path)
    if not keys:
        raise UserInputError(f"no public key beside {settings.key_path}: run a pilot first")
    current_pub = public_key_path_for(settings.key_path)
    current = Verifier.from_public_key_file(current_pub).key_id if current_pub.is_file() else None
    index = export_public_keys(keys, dest, current=current)
    console.print(f"[green]✓ {len(keys)} public key(s) exported[/] (current {current})\n  {index}")
