"""A pilot whose model plants a symlink in /output: the host must reject the outputs."""

import os

from sklearn.dummy import DummyClassifier


class LinkPlanter(DummyClassifier):
    def fit(self, X, y):
        os.symlink("/etc/passwd", "/output/passwd")
        return super().fit(X, y)


def build_model():
    return LinkPlanter()
