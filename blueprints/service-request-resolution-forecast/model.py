"""The resolution-time model: gradient-boosted trees (LightGBM) behind a small encoding step.

``build_model(**params)`` is the entrypoint named in ``pilot.yaml`` (``model.py:build_model``).
The harness calls it with ``model.params`` and fits it on ``/input/train.parquet``, which holds only
the declared feature columns and ``days_to_resolve``: never the neighbourhood, block group,
income quintile, free text or requester details.

Categorical features are encoded as integer codes, with their own code for a blank field and
for a value not seen in training (a new request type, say); trees split on the codes. Numeric
features go through unchanged (LightGBM handles blanks itself). The regressor minimises squared
error, so it forecasts the average days of requests that look alike: it cannot know about
anything the features do not record.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

# Must match `data.features` in pilot.yaml.
CATEGORICAL_FEATURES = (
    "request_type",
    "channel",
    "priority",
    "location_detail",
    "service_zone",
    "created_weekday",
)
NUMERIC_FEATURES = (
    "has_photo",
    "reported_by_staff",
    "created_month",
    "created_hour",
    "same_type_requests_14d",
)
FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES

_REGRESSOR_DEFAULTS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.9,
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def _as_object(frame: Any) -> Any:
    """Categorical columns as plain objects with ``np.nan`` for every blank.

    The harness reads declared categories as pandas categoricals, whose levels differ between
    the training and the scored rows; plain objects encode the same way on both.
    """
    data = pd.DataFrame(frame)
    return data.astype(object).where(data.notna(), np.nan).to_numpy()


def _as_float(frame: Any) -> Any:
    return pd.DataFrame(frame).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def build_model(**params: Any) -> Pipeline:
    """Return an unfitted pipeline; ``params`` go to the LGBMRegressor (``random_state`` too)."""
    regressor_params = {**_REGRESSOR_DEFAULTS, **params}
    categorical = Pipeline(
        [
            ("as_object", FunctionTransformer(_as_object, feature_names_out="one-to-one")),
            (
                "encode",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=-1,
                    encoded_missing_value=-2,
                ),
            ),
        ]
    )
    numeric = FunctionTransformer(_as_float, feature_names_out="one-to-one")
    preprocess = ColumnTransformer(
        [
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
            ("numeric", numeric, list(NUMERIC_FEATURES)),
        ],
        remainder="drop",
    )
    return Pipeline([("preprocess", preprocess), ("regressor", LGBMRegressor(**regressor_params))])
