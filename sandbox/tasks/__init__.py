"""Task types: what a pilot predicts, and everything that depends on it.

    base.py       the `Task` protocol, `TaskConfig` (a task's manifest section), `Outcomes`,
                  `EvaluationSettings`, `PredictionSchema`
    registry.py   `register_task`, `get_task`, `registered_tasks`, `find_task_name`
    evaluate.py   one way from held-back rows and predictions to a task's evaluation
    label_text.py label values as normalised text, once per distinct value
    numbers.py    a text column of numbers parsed at once (`pd.to_numeric`'s result)
    binary.py     binary classification (registered on import)
    multiclass.py multiclass classification (registered on import)
    ranking.py    ranking: the top k rows by score, within a budget (registered on import)
    regression.py regression: numeric labels and predictions (registered on import)
    assistant.py  assistant: answers to residents' questions from a knowledge base, assessed
                  on the host (registered on import)

A new task type is one module that defines a `TaskConfig` subclass and a `Task` and calls
`register_task`; the manifest, the harness spec, the predictions reader, the evaluation, the
policy rules and the reports find it through the registry.

Importing the registry is cheap (pydantic, no numerical library): a task module imports numpy,
pandas and its evaluation inside the methods that use them, and names them for annotations
under TYPE_CHECKING only.
"""

from sandbox.tasks import assistant as _assistant
from sandbox.tasks import binary as _binary
from sandbox.tasks import multiclass as _multiclass
from sandbox.tasks import ranking as _ranking
from sandbox.tasks import regression as _regression
from sandbox.tasks.base import EvaluationSettings, Outcomes, PredictionSchema, Task, TaskConfig
from sandbox.tasks.registry import (
    find_task_name,
    get_task,
    on_register,
    register_task,
    registered_tasks,
    unregister_task,
)

__all__ = [
    "EvaluationSettings",
    "Outcomes",
    "PredictionSchema",
    "Task",
    "TaskConfig",
    "find_task_name",
    "get_task",
    "on_register",
    "register_task",
    "registered_tasks",
    "unregister_task",
]
