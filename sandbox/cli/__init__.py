"""The `sandbox` command line. Thin: parse, call one core function, show the result.

Exit codes: 0 the run passed (possibly with warnings), 1 an unexpected failure, 2 bad input
(manifest, policy pack, data, arguments), 3 the run completed but its verdict is fail/blocked.
A usage error (unknown command or option, missing argument) is one line on stderr and exit 2.
Heavy libraries (docker, mlflow, fairlearn, pandas, and the settings' pydantic) are imported
inside commands, so `sandbox --help` starts instantly: help never reads the settings. Each
command group lives in its own module.

Help costs little more than importing typer: `sandbox --help` (and `sandbox` alone) lists the
commands from what they registered, without building every command's options the way a full
parse does. The output is the same.

A command imports a few hundred thousand long-lived objects (mlflow, pandas, pydantic models),
so with CPython's default thresholds the cyclic garbage collector rescans them hundreds of
times, and again while the interpreter tears down: `main` collects less often and, once the
command is done, freezes what is left (it is freed with the process). Output is unchanged.
"""

from __future__ import annotations

import copy
import gc
import inspect
import os
import sys
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from sandbox import help_cache
from sandbox.cli import (
    api,
    assess,
    audit,
    blueprint,
    evaluate,
    image,
    jobs,
    policy,
    register,
    run,
    schema,
    server,
    submit,
    worker,
)
from sandbox.cli.console import errors
from sandbox.errors import SandboxError

__all__ = ["app", "main"]

# Young-generation size before a collection (CPython: 700); older generations as by default.
_GC_THRESHOLDS = (10_000, 10, 10)
app = typer.Typer(
    name="sandbox",
    help="Run municipal AI pilots in a hardened container, under governance, on the record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
run.register(app)
assess.register(app)
blueprint.register(app)
evaluate.register(audit.app)
app.add_typer(audit.app, name="audit")
app.add_typer(image.app, name="image")
app.add_typer(schema.app, name="schema")
app.add_typer(policy.app, name="policy")
app.add_typer(api.app, name="api")
app.add_typer(blueprint.app, name="blueprint")
submit.register(app)
app.add_typer(jobs.app, name="jobs")
app.add_typer(server.app, name="server")
app.add_typer(register.app, name="register")
worker.register(app)


def main() -> None:
    """Console entry point: map the error tree onto exit codes."""
    gc.set_threshold(*_GC_THRESHOLDS)
    args = sys.argv[1:]
    if args and "--help" not in args:  # help writes nothing: no settings read
        _private_files()
    key = help_cache.cache_key(args)
    code = _run() if key is None else _run_keeping_help(key)
    # Exit handlers still run and files are closed as usual; only the collector's passes over
    # every object during interpreter teardown (seconds after a tracked run) are skipped.
    gc.freeze()
    sys.exit(code)


def _run_keeping_help(key: str) -> int:
    """Run a help command and keep the page it printed for the next time (`help_cache`)."""
    recorder = help_cache.Recorder(sys.stdout)
    sys.stdout = recorder
    try:
        code = _run()
    finally:
        sys.stdout = recorder.stream
        sys.stdout.write(recorder.text())
    if code == 0:
        help_cache.keep_page(key, recorder.text())
    return code


def _run() -> int:
    """Run the command line; the exit code."""
    try:
        listing = _top_level_listing() if sys.argv[1:] in ([], ["--help"]) else None
        # Either returns the code of a typer.Exit instead of raising.
        code = app(standalone_mode=False) if listing is None else listing(standalone_mode=False)
    except SandboxError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        return 130
    except typer.TyperException as exc:  # click's errors, as vendored by typer
        return _usage_error(exc)
    except ValueError as exc:  # pydantic's ValidationError is one: a bad SANDBOX_* variable
        problem = _settings_problem(exc)
        if problem is None:
            raise
        errors.print(f"[red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
        return 2
    return code if isinstance(code, int) else 0


def _settings_problem(exc: ValueError) -> str | None:
    from pydantic import ValidationError

    from sandbox.settings import settings_problem

    return settings_problem(exc) if isinstance(exc, ValidationError) else None


def _private_files() -> None:
    """What the sandbox writes is the user's alone, unless SANDBOX_SHARED_READ says otherwise."""
    from sandbox.settings import Settings

    try:
        os.umask(Settings().umask)
    except ValueError:  # a bad setting is reported by the command that reads it
        os.umask(0o077)


def _usage_error(exc: typer.TyperException) -> int:
    """Say what was wrong with the command line in one line; return the exit code (2)."""
    ctx: Any = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        # A command group given no command: its help is the answer, as `--help` shows it.
        # Rich help was printed as the error was made (the message is then empty, and this
        # ends the help as `--help` does); plain help is the message.
        print(exc.format_message())
        return 0
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    line = " ".join(f"{message}{hint}".split())
    errors.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    code = getattr(exc, "exit_code", 2)
    return code if isinstance(code, int) else 2


def _top_level_listing() -> TyperGroup | None:
    """The top-level group with each entry's name and help only: all `sandbox --help` shows.

    Typer would first build every command's options from its signature; the entries here have
    none. None when an entry needs the full build (a custom class, a group without a name).
    """
    entries: list[TyperCommand | TyperGroup | None] = [
        *(_command_entry(info) for info in app.registered_commands),
        *(_group_entry(info) for info in app.registered_groups),
    ]
    if None in entries:
        return None
    bare = copy.copy(app)  # the root's own name, help and options, without its commands
    bare.registered_commands, bare.registered_groups = [], []
    group = typer.main.get_group(bare)
    for entry in filter(None, entries):
        group.add_command(entry)
    return group


def _command_entry(info: CommandInfo) -> TyperCommand | None:
    """A command as a group's help lists it (help as typer finds it); None: build it fully."""
    if info.cls not in (None, TyperCommand) or info.callback is None:
        return None
    return TyperCommand(
        name=info.name or typer.main.get_command_name(info.callback.__name__),
        help=inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help),
        short_help=info.short_help,
        hidden=info.hidden,
        deprecated=info.deprecated,
        rich_markup_mode=app.rich_markup_mode,
        rich_help_panel=info.rich_help_panel,
    )


def _group_entry(info: TyperInfo) -> TyperGroup | None:
    """A command group as its parent's help lists it; None: build it fully."""
    solved = typer.main.solve_typer_info_defaults(info)
    if solved.cls not in (None, TyperGroup) or not solved.name:
        return None
    return TyperGroup(
        name=solved.name,
        help=solved.help,
        short_help=solved.short_help,
        hidden=solved.hidden,
        deprecated=solved.deprecated,
        rich_markup_mode=app.rich_markup_mode,
        rich_help_panel=solved.rich_help_panel,
    )
