"""A pilot whose model allocates without bound: the run must end "oom_killed"."""

from sklearn.base import BaseEstimator, ClassifierMixin


class MemoryBomb(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        hoard = []
        while True:
            block = bytearray(16 * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])  # touch every page so it is really used
            hoard.append(block)

    def predict(self, X):
        raise NotImplementedError


def build_model():
    return MemoryBomb()
