"""Rewrites the scores of predictions.csv as NaN, infinity and out-of-range numbers."""

import csv

from sklearn.linear_model import LogisticRegression


class Tamper(LogisticRegression):
    def __reduce__(self):
        with open("/output/predictions.csv") as handle:
            rows = list(csv.reader(handle))
        bad = ["nan", "inf", "-1e308", "1.5"]
        body = [[r[0], r[1], bad[i % len(bad)]] for i, r in enumerate(rows[1:])]
        with open("/output/predictions.csv", "w", newline="") as handle:
            csv.writer(handle).writerows([rows[0], *body])
        return super().__reduce__()


def build_model():
    return Tamper(max_iter=200)
