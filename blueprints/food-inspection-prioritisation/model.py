"""The inspection-priority model: a scikit-learn pipeline the sandbox harness builds and fits.

``build_model(**params)`` is the entrypoint named in ``pilot.yaml`` (``model.py:build_model``).
The harness fits it on ``/input/train.parquet``, which holds only the declared feature columns and
the label; it never sees the neighbourhood, the area's majority group, owners' names or phone
numbers, addresses or inspectors' notes. The harness ranks the evaluated inspections by the
probability of the positive class (a critical violation found); the host selects the top k.

Facility types arrive as clerks typed them ("Restaurant", "RESTAURANT", "restaurant"): they are
folded to lower case before one-hot encoding. A blank risk category is its own level
(``not_recorded``). Numeric features are median-imputed: a blank ``days_since_last_inspection``
means a first inspection, so a missing-value indicator is kept beside the imputed value. The
classifier is gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``), like
the gradient-boosting model the City of Chicago used for its food inspections; it is small and
seeded, so the run is reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

# Must match `data.features` in pilot.yaml.
NUMERIC_FEATURES = (
    "past_critical_violations",
    "past_serious_violations",
    "days_since_last_inspection",
    "license_age_days",
    "complaints_past_year",
    "nearby_sanitation_complaints_90d",
    "temp_3day_high_c",
    "has_tobacco_license",
    "has_liquor_license",
)
CATEGORICAL_FEATURES = (
    "facility_type",
    "risk_category",
    "inspection_type",
)
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

_CLASSIFIER_DEFAULTS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "random_state": 0,
}


def _normalised_text(frame: Any) -> Any:
    """Categories as lower-case text without surrounding spaces; every blank as ``np.nan``."""
    data = pd.DataFrame(frame).astype(object)
    data = data.where(data.notna(), np.nan)
    folded = data.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    return folded.replace("", np.nan).to_numpy()


def build_model(**params: Any) -> Pipeline:
    """Return an unfitted pipeline; ``params`` go to the HistGradientBoostingClassifier."""
    classifier_params = {**_CLASSIFIER_DEFAULTS, **params}
    numeric = SimpleImputer(strategy="median", add_indicator=True)
    categorical = Pipeline(
        [
            ("normalise", FunctionTransformer(_normalised_text, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="not_recorded")),
            (
                "encode",
                OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False),
            ),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ],
        remainder="drop",
    )
    return Pipeline(
        [
            ("preprocess", preprocess),
            ("classifier", HistGradientBoostingClassifier(**classifier_params)),
        ]
    )
