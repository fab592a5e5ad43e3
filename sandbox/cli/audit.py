"""`sandbox audit ...`: verify the trail, checkpoint it, export and verify evidence bundles,
audit predictions alone, replay a run, and manage the signing keys.

Exit codes: 0 verified / reproduced / passed, 1 does not verify / does not reproduce or an
unexpected failure, 2 bad input, 3 (evaluate) the audit completed with a fail verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sandbox.cli.console import OutOption, console, errors
from sandbox.errors import SandboxError, UserInputError
from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.audit.signing import Verifier
    from sandbox.audit.trail import AuditTrail

__all__ = ["app"]

app = typer.Typer(
    help="Verify the signed audit trail, export and check evidence bundles, replay runs.",
    no_args_is_help=True,
)

KeysOption = Annotated[
    Path | None,
    typer.Option(
        "--keys", help="A folder of public keys (*.pub) to trust, e.g. from `export-keys`."
    ),
]
PublicKeyOption = Annotated[
    Path | None, typer.Option(help="One public key (PEM) to trust instead of the keyring.")
]


def _trail(settings: Settings) -> AuditTrail:
    from sandbox.audit.signing import Signer
    from sandbox.audit.trail import AuditTrail

    return AuditTrail(settings.trail_path, Signer.load_or_create(settings.key_path))


def _trusted(
    settings: Settings | None, public_key: Path | None, keys_dir: Path | None
) -> dict[str, Verifier] | None:
    """The keys to verify with: given ones, else the sandbox's keyring (None if no settings)."""
    from sandbox.audit.keyring import load_keyring, read_keyring_dir
    from sandbox.audit.signing import Verifier

    if public_key is None and keys_dir is None:
        return load_keyring(settings.key_path) if settings is not None else None
    keys: dict[str, Verifier] = {}
    if keys_dir is not None:
        if not keys_dir.is_dir():
            raise UserInputError(f"--keys {keys_dir}: not a folder")
        keys |= read_keyring_dir(keys_dir)
    if public_key is not None:
        verifier = Verifier.from_public_key_file(public_key)
        keys[verifier.key_id] = verifier
    if not keys:
        raise UserInputError(f"--keys {keys_dir}: holds no *.pub public key")
    return keys


@app.command("verify")
def audit_verify(
    trail: Annotated[Path | None, typer.Option(help="Trail file; default: the sandbox's.")] = None,
    public_key: PublicKeyOption = None,
    keys: KeysOption = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="A checkpoint held elsewhere: also catch truncation and rewriting."),
    ] = None,
) -> None:
    """Verify every signature and hash link of the audit trail; exit 1 at the first bad record."""
    from sandbox.audit.checkpoint import read_checkpoint, verify_against_checkpoint
    from sandbox.audit.trail import verify_trail

    settings = Settings()
    trail_path = trail or settings.trail_path
    if not trail_path.is_file():
        raise SandboxError(f"{trail_path}: no audit trail yet; run a pilot first (sandbox demo)")
    trusted = _trusted(settings, public_key, keys) or {}
    if not trusted:
        raise UserInputError(
            f"no public key beside {settings.key_path}; pass --public-key or --keys"
        )
    if checkpoint is not None:
        outcome = verify_against_checkpoint(trail_path, read_checkpoint(checkpoint), trusted)
        cp = outcome.checkpoint
        if outcome.ok and outcome.trail is not None:
            console.print(
                f"[green]✓ trail verified against the checkpoint[/] of {cp.time}: it still "
                f"holds record seq {cp.head_seq} ({cp.head_hash}); "
                f"{outcome.trail.records_checked} records now\n  {trail_path}"
            )
            return
        errors.print(
            f"[red]✗ trail does NOT verify against the checkpoint[/] {checkpoint}: "
            f"{escape(outcome.reason or '')}\n  {trail_path}"
        )
        raise typer.Exit(1)
    result = verify_trail(trail_path, trusted)
    if result.ok:
        console.print(
            f"[green]✓ trail verified[/]: {result.records_checked} records, "
            f"head {result.head_hash}\n  {trail_path}"
        )
        return
    errors.print(
        f"[red]✗ trail does NOT verify[/] at line {result.first_bad_line}"
        f" (seq {result.first_bad_seq}): {escape(result.reason or '')}\n  {trail_path}"
    )
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

    settings = Settings()
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
        f"signed by {cp.key_id}\n  {path}\nKeep a copy elsewhere; check the trail against it "
        f"with: sandbox audit verify --checkpoint {path.name}"
    )


@app.command("export")
def audit_export(
    run_id: Annotated[str, typer.Argument(help="The run id (a folder under <home>/runs).")],
    out: Annotated[
        Path | None, typer.Option(help="Bundle file; default: ./sandbox-bundle-<run>.tar.gz.")
    ] = None,
) -> None:
    """Write one archive with everything needed to verify RUN_ID on another machine."""
    from sandbox.audit.bundle import export_bundle
    from sandbox.audit.checkpoint import checkpoints_dir_for
    from sandbox.audit.keyring import load_keyring

    settings = Settings()
    path = export_bundle(
        run_id,
        runs_dir=settings.runs_dir,
        trail=_trail(settings),
        keys=load_keyring(settings.key_path),
        checkpoints_dir=checkpoints_dir_for(settings.trail_path),
        out=out,
    )
    console.print(
        f"[green]✓ bundle written[/]: {path}\nVerify it anywhere: sandbox audit verify-bundle "
        f"{path.name}"
    )


@app.command("verify-bundle")
def audit_verify_bundle(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `sandbox audit export`.")],
    public_key: PublicKeyOption = None,
    keys: KeysOption = None,
) -> None:
    """Verify an evidence bundle with nothing but the bundle; exit 1 naming the first problem."""
    from sandbox.audit.bundle import verify_bundle

    if not bundle.is_file():
        raise UserInputError(f"{bundle}: no such file")
    result = verify_bundle(bundle, trusted_keys=_trusted(None, public_key, keys))
    for check in result.checks:
        console.print(f"[green]✓[/] {escape(check)}")
    if not result.ok:
        errors.print(
            f"[red]✗ bundle does NOT verify[/]: {escape(result.problem or '')}\n  {bundle}"
        )
        raise typer.Exit(1)
    cp = result.checkpoint
    console.print(f"[green]✓ bundle verified[/]: run {result.run_id}\n  {bundle}")
    console.print(f"Signing keys in the bundle: {', '.join(result.key_ids)}")
    if cp is not None:
        console.print(f"Checkpoint: trail size {cp.trail_size}, head {cp.head_hash} ({cp.time})")
    if public_key is None and keys is None:
        console.print("Compare these key ids with the ones the city publishes, or pass --keys DIR.")


@app.command("evaluate")
def audit_evaluate(
    data: Annotated[Path, typer.Option(help="CSV or Parquet file of predictions.")],
    label: Annotated[str, typer.Option(help="Column of the true outcome.")],
    prediction: Annotated[str, typer.Option(help="Column of the predicted outcome.")],
    sensitive: Annotated[str, typer.Option(help="Sensitive attribute columns, comma-separated.")],
    score: Annotated[str | None, typer.Option(help="Column of scores/probabilities.")] = None,
    positive: Annotated[
        str | None, typer.Option(help="The positive outcome's value (default: 1/true).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Name of the audit (default: file name).")
    ] = None,
    policy_pack: Annotated[
        list[str] | None, typer.Option(help="Policy pack(s) whose post-run rules apply.")
    ] = None,
    out: OutOption = None,
) -> None:
    """Audit a vendor's predictions alone: same fairness report, trail record and MLflow run."""
    from sandbox.runs.predictions_audit import audit_predictions
    from sandbox.runs.services import build_services

    settings = Settings()
    columns = [c.strip() for c in sensitive.split(",") if c.strip()]
    outcome = audit_predictions(
        data,
        label=label,
        prediction=prediction,
        score=score,
        sensitive=columns,
        positive=positive,
        name=name,
        policy_packs=tuple(policy_pack or ("baseline",)),
        services=build_services(settings),
        out_dir=out,
    )
    verdict = outcome.verdict.status.replace("_", " ").upper()
    console.print(f"[bold]Predictions-only audit[/] {outcome.run_id}: {verdict}")
    for failure in outcome.verdict.failures:
        console.print(f"  ! {failure.severity} {failure.rule_id}: {escape(failure.message)}")
    console.print(f"Report       {outcome.reports['html']}")
    if outcome.tracker_run_id:
        console.print(f"MLflow run   {outcome.tracker_run_id}")
    console.print(f"Audit record seq {outcome.trail_seq} in {settings.trail_path}")
    for note in outcome.notes:
        console.print(f"note: {escape(note)}")
    raise typer.Exit(outcome.exit_code)


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

    outcome = replay_run(run_id, build_services(Settings()), pilot_dir=pilot)
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

    settings = Settings()
    rotation = rotate_key(settings.trail_path, settings.key_path, actor=settings.who)
    from sandbox.audit.trail import AuditTrail

    checkpoint = write_checkpoint(
        AuditTrail(settings.trail_path, rotation.signer),
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

    settings = Settings()
    keys = load_keyring(settings.key_path)
    if not keys:
        raise UserInputError(f"no public key beside {settings.key_path}: run a pilot first")
    current_pub = public_key_path_for(settings.key_path)
    current = Verifier.from_public_key_file(current_pub).key_id if current_pub.is_file() else None
    index = export_public_keys(keys, dest, current=current)
    console.print(f"[green]✓ {len(keys)} public key(s) exported[/] (current {current})\n  {index}")
