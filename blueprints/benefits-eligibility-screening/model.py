"""The screening model: a scikit-learn pipeline the sandbox harness builds and fits.

``build_model(**params)`` is the entrypoint named in ``pilot.yaml`` (``model.py:build_model``).
The harness calls it with ``model.params`` and fits it on ``/input/train.parquet`` holding only the
declared feature columns; it never sees sensitive attributes or personal data.

Numeric features are median-imputed and standardised; categorical features are imputed with an
explicit ``"not_reported"`` level (a blank field on the intake form is information, not noise)
and one-hot encoded, ignoring levels unseen in training. The classifier is a logistic regression,
chosen because caseworkers and auditors can read its coefficients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Must match `data.features` in pilot.yaml, in the same order.
NUMERIC_FEATURES = (
    "distance_to_office_km",
    "household_size",
    "dependents",
    "monthly_income",
    "monthly_housing_cost",
    "rent_burden_ratio",
    "months_at_address",
    "prior_applications",
    "has_disability_member",
)
CATEGORICAL_FEATURES = (
    "service_district",
    "employment_status",
    "housing_tenure",
)
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

_CLASSIFIER_DEFAULTS: dict[str, Any] = {"C": 1.0, "max_iter": 1000, "solver": "lbfgs"}


def _as_object(frame: Any) -> Any:
    """Cast categorical columns to plain objects with ``np.nan`` for every blank.

    pandas may read text columns as its string dtype (blanks as ``pd.NA``) or, from Parquet, as
    objects holding ``None``; the imputer expects ``np.nan``, whatever versions the runner image
    carries.
    """
    data = pd.DataFrame(frame)
    return data.astype(object).where(data.notna(), np.nan).to_numpy()


def build_model(**params: Any) -> Pipeline:
    """Return an unfitted pipeline; ``params`` go to the LogisticRegression (C, max_iter, ...).

    ``random_state`` is accepted too (the harness may pass the manifest's seed).
    """
    classifier_params = {**_CLASSIFIER_DEFAULTS, **params}
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("as_object", FunctionTransformer(_as_object, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="not_reported")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
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
            ("classifier", LogisticRegression(**classifier_params)),
        ]
    )
