"""Never finishes: sleeps for ever during fit. The timeout must end it."""

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
