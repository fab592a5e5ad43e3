"""The public algorithm register: runs approved for publication, as a static site and JSON.

    approvals.py   which runs are published: the latest `run.signed_off` record of each run
                   (approved, publish true, same organisation) over a `run.finished` run
    sources.py     a published run's report.json (run folder, else its MLflow artifact),
                   checked against the signed record; its attestation
    mapping.py     a report as an entry of the Dutch Algoritmeregister standard (1.0.0), each
                   field sourced from the report or its UK ATRS record, or listed as a gap
    definitions.py the standard's field definitions (shipped in standards/, source and version
                   stated) and the validator generated from them
    evidence.py    the checkpoint covering the published records, inclusion proofs, and the
                   offline check of an entry's evidence
    entry.py       `Entry`: one published algorithm and its files
    site.py        the static pages (templates/) and JSON files, written and swapped in whole
    build.py       `build_register(settings, out)`: all of the above, validated before writing

Run by `sandbox register build --out DIR` (docs/register.md).
"""
