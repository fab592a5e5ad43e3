"""A tiny pilot: scaled logistic regression, the smallest model the harness can run."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def build_model(C: float = 1.0, random_state: int | None = None):
    """The estimator factory the harness calls with the manifest's params."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, random_state=random_state))
