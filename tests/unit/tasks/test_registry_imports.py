"""Importing the task registry is cheap: every task type registers, no numerical library loads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sandbox.evaluation.assistant import ASSISTANT, VOCABULARY
from sandbox.evaluation.binary import BINARY
from sandbox.evaluation.multiclass import MULTICLASS
from sandbox.evaluation.ranking import RANKING
from sandbox.evaluation.regression import REGRESSION
from sandbox.tasks import find_task_name, get_task, registered_tasks
from sandbox.tasks.assistant import ASSISTANT_TASK
from sandbox.tasks.binary import BINARY_TASK
from sandbox.tasks.multiclass import MULTICLASS_TASK
from sandbox.tasks.ranking import RANKING_TASK
from sandbox.tasks.regression import REGRESSION_TASK

#: Libraries the registry must not load: the task types import them when first used.
HEAVY = ("numpy", "pandas", "scipy", "sklearn", "pyarrow", "regex", "sandbox.evaluation.result")

_PROBE = """
import json, sys
import sandbox.tasks as tasks
print(json.dumps({
    "names": [task.name for task in tasks.registered_tasks()],
    "loaded": sorted(name for name in sys.modules if name in HEAVY),
}))
"""


def test_importing_the_registry_loads_no_numerical_library() -> None:
    """A fresh interpreter imports `sandbox.tasks`: all five types, none of the heavy modules."""
    probe = f"HEAVY = {HEAVY!r}\n{_PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(done.stdout)
    assert seen["names"] == [ASSISTANT, BINARY, MULTICLASS, RANKING, REGRESSION]
    assert seen["loaded"] == []


@pytest.mark.parametrize(
    ("task", "name"),
    [
        (ASSISTANT_TASK, ASSISTANT),
        (BINARY_TASK, BINARY),
        (MULTICLASS_TASK, MULTICLASS),
        (RANKING_TASK, RANKING),
        (REGRESSION_TASK, REGRESSION),
    ],
)
def test_each_task_type_is_registered_under_its_evaluation_s_name(task: object, name: str) -> None:
    """The names the task modules declare are the ones their evaluations write."""
    assert get_task(name) is task
    assert find_task_name(name) == name


def test_the_registry_keeps_its_order_and_the_assistant_its_vocabulary() -> None:
    """Registration order (used in messages) and the assistant's vocabulary, loaded on use."""
    names = [task.name for task in registered_tasks()]
    assert names[:5] == [ASSISTANT, BINARY, MULTICLASS, RANKING, REGRESSION]
    assert ASSISTANT_TASK.vocabulary is VOCABULARY
