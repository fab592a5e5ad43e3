"""The numbers of a run: performance and group fairness, with intervals and warnings.

    groups.py       rows split into groups by sensitive attributes, each attribute coded once
    set_counts.py   every attribute set's group counts from one pass over the rows
    fairness.py     per-group confusion counts (equal to fairlearn's MetricFrame), bootstrap
    disparity.py    the difference and ratio between groups (MetricFrame's between_groups)
    performance.py  task performance metrics
    roc.py          ROC AUC from counts per distinct score (scikit-learn's, bit for bit)
    binary.py       the evaluation of a binary classifier: result model and `evaluate_binary`
    classes.py      a multiclass evaluation's classes and each row's class code
    multiclass.py   the evaluation of a multiclass classifier: `evaluate_multiclass`
    error_metrics.py a regression's MAE, MSE and R² (scikit-learn's, bit for bit)
    group_errors.py per-group regression errors from one sort (equal to MetricFrame's)
    regression.py   the evaluation of a regression model: `evaluate_regression`
    ranking.py      the evaluation of a top-k list: `evaluate_ranking`

Nothing here reads files, talks to MLflow or knows about policies: inputs are arrays.
"""
