"""The routing model: a scikit-learn pipeline the sandbox harness builds and fits.

``build_model(**params)`` is the entrypoint named in ``pilot.yaml`` (``model.py:build_model``).
The harness calls it with ``model.params`` and fits it on ``/input/train.parquet``, which holds only
the declared features: the *redacted* request text, the category field and the channel. The
text as the resident wrote it, the district, the language and the reporter's contact details
stay on the host.

The text is turned into TF-IDF weights of words and word pairs (lower-cased, as written: no
accent folding, no stemming, no translation, which is part of what the audit is meant to find);
the category and the channel are one-hot encoded with an explicit ``not_reported`` level for a
blank field. The classifier is a multinomial logistic regression, whose per-department word
weights a reviewer can read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

# Must match `data.features` in pilot.yaml.
TEXT_FEATURE = "description_redacted"
CATEGORICAL_FEATURES = ("category", "channel")

_CLASSIFIER_DEFAULTS: dict[str, Any] = {"C": 4.0, "max_iter": 2000, "solver": "lbfgs"}
_TEXT_DEFAULTS: dict[str, Any] = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}


def _as_text(frame: Any) -> Any:
    """The text column as one string per row, a blank description as an empty string."""
    column = pd.DataFrame(frame).iloc[:, 0]
    return column.astype(object).where(column.notna(), "").astype(str).tolist()


def _as_object(frame: Any) -> Any:
    """Categorical columns as plain objects with ``np.nan`` for every blank (what the imputer
    expects, whatever dtype pandas read them as)."""
    data = pd.DataFrame(frame)
    return data.astype(object).where(data.notna(), np.nan).to_numpy()


def build_model(**params: Any) -> Pipeline:
    """Return an unfitted pipeline; ``params`` go to the LogisticRegression (C, max_iter, ...).

    ``min_df`` and ``ngram_range`` (a list of two numbers) are passed to the text vectoriser.
    """
    text_params = dict(_TEXT_DEFAULTS)
    for key in ("min_df", "ngram_range"):
        if key in params:
            value = params.pop(key)
            text_params[key] = tuple(value) if key == "ngram_range" else value
    classifier_params = {**_CLASSIFIER_DEFAULTS, **params}
    text = Pipeline(
        [
            ("as_text", FunctionTransformer(_as_text)),
            ("tfidf", TfidfVectorizer(lowercase=True, **text_params)),
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
            ("text", text, [TEXT_FEATURE]),
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
