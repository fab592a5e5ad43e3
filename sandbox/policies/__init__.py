"""Governance policies as code: packs of rules, checked before, during and after every run.

    pack.py        the pack model, loading with `extends`, the JSON Schema
    provenance.py  where a pack comes from (built-in, city, pilot) and who may loosen what
    tightening.py  the tighten-only comparison of a pilot's override with the rule it inherits
    rule.py        one rule as a pack declares it
    rules/         the rule types, one module per theme, registered in `RULE_TYPES`
    impact.py      the impact-assessment questionnaire: scores and level I-IV
    selection.py   `packs_for`: the packs a pilot's manifest, phase and impact level select
    hardening.py   `effective_hardening`: the packs' ceilings applied to the container
    engine.py      `launch_gate` (may the container start?), `check_stage` and `decide`
    verdict.py     the verdict, and its tracker tags, metrics and audit record
    suite.py       sample pilots with expected verdicts (each built-in pack's suite.yaml)
    assistant_samples.py  an assistant sample's questions and answers, rebuilt from its counts
    packs/         the built-in packs

Import from the modules; this package keeps no imports of its own so that reading a verdict
(`sandbox.policies.verdict`) stays light.
"""
