"""The numbers of a run: performance and group fairness, with intervals and warnings.

    fairness.py     per-group confusion counts (equal to fairlearn's MetricFrame), bootstrap
    performance.py  task performance metrics
    binary.py       the evaluation of a binary classifier: result model and `evaluate_binary`

Nothing here reads files, talks to MLflow or knows about policies: inputs are arrays.
"""
