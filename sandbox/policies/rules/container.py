"""Container rules: the model ran to completion within its limits, and its outputs honour the
container contract. They judge how the container ended, so they are checked after it has run
(never by the launch gate); before that, or for a run with no container, they do not apply."""

from __future__ import annotations

from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["ContainerParams", "check_outputs_valid", "check_succeeded"]


class ContainerParams(Params):
    """No parameters: the container contract is the same for every pilot."""


def check_succeeded(p: ContainerParams, ctx: RuleContext) -> Finding:
    """The container ended `succeeded`: not failed, timed out or killed for its memory."""
    result = ctx.container
    if result is None:
        why = "the outputs were rejected" if ctx.outputs_rejected else "no container has run"
        return Finding("not_applicable", why)
    evidence = {
        "state": result.state,
        "exit_code": result.exit_code,
        "duration_s": round(result.duration_s, 3),
        "stderr_tail": result.stderr_tail[-2000:],
    }
    if result.state == "succeeded":
        return Finding("passed", "the model ran to completion", evidence)
    what = {
        "failed": "stopped with an error",
        "timed_out": "ran past its time limit and was stopped",
        "oom_killed": "ran out of memory and was stopped",
    }.get(result.state, result.state.replace("_", " "))
    return Finding("failed", f"the model {what} (exit code {result.exit_code})", evidence)


def check_outputs_valid(p: ContainerParams, ctx: RuleContext) -> Finding:
    """Every output passed the host's checks (schema, row ids, sizes, no links or path tricks)."""
    if ctx.outputs_rejected is not None:
        reason = ctx.outputs_rejected
        return Finding("failed", f"outputs rejected: {reason}", {"reason": reason})
    result = ctx.container
    if result is None or result.state != "succeeded":
        return Finding("not_applicable", "the container did not hand back outputs")
    return Finding(
        "passed",
        "the outputs honour the container contract",
        {"outputs": dict(result.output_files)},
    )
