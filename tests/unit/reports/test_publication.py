"""What a run publishes: one suppression decision in every publication file, names in any
script, Markdown without HTML entities, the failure reason on top of every report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sandbox.evaluation.binary import evaluate_binary
from sandbox.policies.verdict import RuleOutcome, Verdict
from sandbox.reports import model as r
from sandbox.reports.build import fitted_rows
from sandbox.reports.disclosure import INTERNAL_FILES, PUBLICATION_FILES, disclosure_of
from sandbox.reports.documents import DOCUMENT_FILES
from sandbox.reports.render import markdown_text
from sandbox.reports.writer import write_reports

START = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)
#: group -> (rows, positive predictions); the two small groups have counts and rates seen
#: nowhere else, so finding them in a file means a suppressed cell leaked.
GROUPS = {
    "الرياض": (420, 150),
    "القاهرة": (13, 7),  # small: 0.538
    "北京": (380, 120),
    "上海": (360, 150),
    "São Paulo": (17, 3),  # small: 0.176
    "Zürich": (400, 160),
}
SMALL = {"القاهرة": ("13", "0.538"), "São Paulo": ("17", "0.176")}


def _report(*, failure: r.FailureSection | None = None) -> r.AuditReport:
    rng = np.random.default_rng(7)
    labels, preds, y_true = [], [], []
    for name, (rows, positives) in GROUPS.items():
        labels += [name] * rows
        preds += [1] * positives + [0] * (rows - positives)
        y_true += list(rng.integers(0, 2, rows))
    evaluation = evaluate_binary(
        y_true=np.array(y_true),
        y_pred=np.array(preds),
        sensitive=pd.DataFrame({"city": labels}),
        min_group_size=30,
        n_bootstrap=0,
    )
    return r.AuditReport(
        run=r.RunSection(
            run_id="run-1", started_at=START, finished_at=START + timedelta(seconds=5), state="pass"
        ),
        pilot=r.PilotSection(
            name="intake", version="1.0.0", city="Ciudad <Unida>", task="binary_classification"
        ),
        data=r.DataSection(
            split=r.DataSplit(
                seed=1,
                train_rows=1000,
                eval_rows=len(labels),
                train_sha256="sha256:" + "e" * 64,
                score_sha256="sha256:" + "f" * 64,
                fit_rows=800,
                importance_rows=200,
            ),
            roles=r.DataRoles(label="income", positive_label=">50K", features=("a_b", "c")),
        ),
        model=r.ModelSection(entrypoint="model.py:build", importance_holdout=0.2),
        evaluation=evaluation,
        verdict=Verdict.decide(
            "baseline",
            [
                RuleOutcome(
                    rule_id="runtime.container-succeeded",
                    title="The model ran",
                    stage="runtime",
                    severity="block",
                    outcome="failed" if failure else "passed",
                    message="the model stopped with an error (exit code 3)",
                )
            ],
        ),
        failure=failure,
        disclosure=disclosure_of(evaluation),
        provenance=r.ProvenanceSection(
            manifest_sha256="a" * 64, policy_pack_id="baseline", policy_pack_sha256="b" * 64
        ),
    )


def _pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) is needed to read the PDF back")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    paths = write_reports(_report(), folder)
    texts = {p.name: p.read_text(encoding="utf-8") for p in paths.values() if p.suffix != ".pdf"}
    texts["report.pdf"] = _pdf_text(folder / "report.pdf")
    return texts


def test_every_file_is_either_for_publication_or_internal(written):
    assert set(DOCUMENT_FILES.values()) == set(PUBLICATION_FILES)
    assert set(written) == set(PUBLICATION_FILES) | set(INTERNAL_FILES)


def test_no_suppressed_cell_value_in_any_publication_file(written):
    for name in PUBLICATION_FILES:
        text = written[name]
        for label, (count, rate) in SMALL.items():
            assert rate not in text, (name, label)
            assert not re.search(rf"(?<![\d.,]){count}(?![\d.,])", text), (name, label, count)


def test_the_internal_report_shows_small_cells_marked(written):
    html = written["report.html"]
    assert "small: not for publication" in html
    assert "Internal report" in html and "Internal report" in written["report.md"]
    md = written["report.md"]
    assert "small group, 13 rows, not for publication" in md or "(13 rows)" in md


def test_names_in_any_script_are_in_the_pdf(written):
    pdf = written["report.pdf"]
    for name in ("الرياض", "São Paulo", "Zürich"):
        # pdftotext gives Arabic back in visual order: compare the letters, not their order
        assert name in pdf or name[::-1] in pdf or set(name) <= set(pdf), name
    assert "U+5317U+4EAC" in pdf and "U+4E0AU+6D77" in pdf  # 北京, 上海: no glyphs, distinct
    assert "?" * 4 not in pdf


def test_markdown_has_no_html_entities(written):
    for name, text in written.items():
        if name.endswith(".md"):
            assert not re.search(r"&(gt|lt|amp|quot|#\d+);", text), name
    assert "positive value >50K" in written["model-card.md"]
    assert "Ciudad \\<Unida>" in written["report.md"]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (">50K", ">50K"),
        ("race_ethnicity", "race_ethnicity"),
        ("a|b", "a\\|b"),
        ("*x*", "\\*x\\*"),
        ("<img src=x>", "\\<img src=x>"),
        ("<30", "<30"),
        ("A & B &amp;", "A & B \\&amp;"),
        ("[link](x)", "\\[link\\](x)"),
    ],
)
def test_markdown_escaping(raw, escaped):
    assert markdown_text(raw) == escaped


def test_failure_reason_is_on_top_of_every_report(tmp_path):
    failure = r.FailureSection(
        stage="model",
        reason="the model failed (exit code 3): predict() must return 0/1 labels",
        stderr_tail="Traceback <frame>\nharness: error: predict() must return 0/1 labels",
    )
    paths = write_reports(_report(failure=failure), tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    assert md.index("predict() must return 0/1 labels") < md.index("## Key findings")
    assert "    harness: error: predict() must return 0/1 labels" in md  # a literal code block
    html = paths["html"].read_text(encoding="utf-8")
    assert html.index("Why the run failed") < html.index('id="findings"')
    assert "Traceback &lt;frame&gt;" in html
    card = paths["model_card"].read_text(encoding="utf-8")
    assert "This run failed: the model failed (exit code 3)" in card
    assert "Traceback" not in card  # the error output is for the team, not for publication
    pdf = _pdf_text(paths["pdf"])
    assert "Why the run failed" in pdf and "Traceback" not in pdf


@pytest.mark.parametrize(("rows", "holdout"), [(1000, 0.2), (37, 0.1), (30, 0.1), (9, 0.0)])
def test_fitted_rows_match_the_harness_split(rows, holdout):
    from sklearn.model_selection import train_test_split

    fit, held = fitted_rows(rows, holdout)
    assert fit + held == rows
    if holdout:
        a, b = train_test_split(np.arange(rows), test_size=holdout, random_state=0)
        assert (len(a), len(b)) == (fit, held)
    else:
        assert held == 0
