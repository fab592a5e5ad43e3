"""A well-behaved pilot: it must succeed even while attacks run beside it."""

from sklearn.linear_model import LogisticRegression


def build_model(**params):
    return LogisticRegression(max_iter=200, **params)
