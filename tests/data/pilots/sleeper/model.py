"""A pilot whose model never finishes fitting: the run must end "timed_out"."""

import time

from sklearn.base import BaseEstimator, ClassifierMixin


class Sleeper(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        while True:
            time.sleep(1)

    def predict(self, X):
        raise NotImplementedError


def build_model():
    return Sleeper()
