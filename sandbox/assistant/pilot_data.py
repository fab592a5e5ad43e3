"""An assistant pilot's data: its evaluation set, knowledge base and canaries, read once.

The counterpart of `sandbox.data.dataset.load_pilot_data` for assistant pilots. Every path
comes from the manifest, which confined it to the pilot folder when it was loaded; every file
is read with a bound (`sandbox.assistant.jsonl`, `sandbox.assistant.knowledge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sandbox.assistant.evaluation_set import EvaluationSet, evaluation_set
from sandbox.assistant.jsonl import read_references
from sandbox.assistant.knowledge import Knowledge, load_knowledge
from sandbox.assistant.records import Reference
from sandbox.data.dataset import SourceInfo
from sandbox.digests import file_sha256
from sandbox.errors import DataError

if TYPE_CHECKING:
    from sandbox.manifest import PilotManifest

__all__ = ["AssistantData", "load_assistant_data"]


@dataclass(frozen=True, kw_only=True)
class AssistantData:
    """What an assistant pilot's run reads on the host; none of the references cross."""

    questions: EvaluationSet
    knowledge: Knowledge
    sources: tuple[SourceInfo, ...]
    #: Reference fields the run uses, and how many questions leave each empty.
    missing_by_column: dict[str, int]
    #: What crosses the wall (the question and the other `data.features`), one row per
    #: question: the pre-run rules scan it for personal data, as they scan a table's features.
    features: pd.DataFrame
    #: The reference id of each row of `features`.
    row_ids: np.ndarray


def load_assistant_data(pilot_dir: Path, manifest: PilotManifest) -> AssistantData:
    """Read the evaluation set, knowledge base and canaries the manifest names."""
    from sandbox.tasks.assistant import AssistantConfig

    config = manifest.task
    if not isinstance(config, AssistantConfig):
        raise DataError(f"{manifest.pilot.name}: not an assistant pilot")
    references = []
    infos = []
    for source in manifest.data.sources:
        path = pilot_dir / source.path
        rows = read_references(path)
        references.extend(rows)
        extra = (name for r in rows for name in r.model_extra or {})
        fields = dict.fromkeys([*Reference.model_fields, *extra])
        infos.append(
            SourceInfo(
                path=source.path,
                format="jsonl",
                sha256=file_sha256(path),
                rows=len(rows),
                columns=tuple(fields),
            )
        )
    where = f"{pilot_dir / 'pilot.yaml'}"
    names = ", ".join(s.path for s in manifest.data.sources)
    questions = evaluation_set(
        references, manifest.data.sensitive, source=names, fix_field=f"{where}: data.sensitive"
    )
    duplicated = len(references) - len({r.id for r in references})
    if duplicated:
        raise DataError(f"{names}: {duplicated} question ids appear in more than one source")
    kb = config.knowledge_base
    knowledge = load_knowledge(
        pilot_dir / kb.path,
        restricted_globs=kb.restricted,
        canaries_file=pilot_dir / config.canaries if config.canaries else None,
        where=f"{where}: task.knowledge_base.path",
    )
    used = (*manifest.data.features, *manifest.data.sensitive)
    missing = {
        name: int(sum(1 for r in references if _empty(r, name))) for name in dict.fromkeys(used)
    }
    crossing = pd.DataFrame(
        {name: [getattr(r, name, None) for r in references] for name in manifest.data.features}
    )
    return AssistantData(
        questions=questions,
        knowledge=knowledge,
        sources=tuple(infos),
        missing_by_column=missing,
        features=crossing,
        row_ids=np.array([r.id for r in references], dtype=object),
    )


def _empty(reference: object, name: str) -> bool:
    value = getattr(reference, name, None)  # a reference's extra fields are attributes too
    return value is None or (isinstance(value, str) and not value.strip())
