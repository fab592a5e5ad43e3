"""The registry of task types: a task type registers itself once, by its `name`."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.errors import ManifestError, UserInputError
from sandbox.tasks.base import Task

__all__ = [
    "find_task_name",
    "get_task",
    "on_register",
    "register_task",
    "registered_tasks",
    "unregister_task",
]

_TASKS: dict[str, Task] = {}
_LISTENERS: list[Callable[[], None]] = []


def register_task(task: Task) -> Task:
    """Make `task` known by its name (replacing one of the same name); returns it."""
    _TASKS[task.name] = task
    _notify()
    return task


def unregister_task(name: str) -> None:
    """Forget the task type called `name` (tests that add one clean up with this)."""
    if _TASKS.pop(name, None) is not None:
        _notify()


def get_task(name: str) -> Task:
    """The registered task type called `name`; ManifestError naming the known ones."""
    try:
        return _TASKS[name]
    except KeyError:
        known = ", ".join(sorted(_TASKS)) or "none"
        raise ManifestError(f"unknown task type {name!r}; known task types: {known}") from None


def find_task_name(text: str, *, option: str = "task") -> str:
    """The registered task type `text` names, in full or without `_classification`.

    UserInputError naming `option` and the known types when none matches.
    """
    wanted = text.strip()
    for name in _TASKS:
        if wanted in (name, name.removesuffix("_classification")):
            return name
    known = ", ".join(_TASKS) or "none"
    raise UserInputError(f"{option}: unknown task type {text!r}; known: {known}")


def registered_tasks() -> tuple[Task, ...]:
    """Every registered task type, in registration order."""
    return tuple(_TASKS.values())


def on_register(listener: Callable[[], None]) -> None:
    """Call `listener` whenever the set of task types changes (models built from it rebuild)."""
    _LISTENERS.append(listener)


def _notify() -> None:
    for listener in _LISTENERS:
        listener()
