"""Replaces predictions.csv with binary garbage after the harness wrote it (joblib.dump of the
model is the harness's last step, and pickling calls the model's __reduce__).
"""

import os

from sklearn.linear_model import LogisticRegression


class Tamper(LogisticRegression):
    def __reduce__(self):
        with open("/output/predictions.csv", "wb") as handle:
            handle.write(b"row_id,prediction\n\x00\xff\xfe" + os.urandom(4096))
        return super().__reduce__()


def build_model():
    return Tamper(max_iter=200)
