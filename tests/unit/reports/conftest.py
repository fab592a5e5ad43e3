"""Report fixtures shared by the report tests: a full run's report and a blocked run's."""

from tests.unit.reports.test_documents import blocked, manifest, report

__all__ = ["blocked", "manifest", "report"]
