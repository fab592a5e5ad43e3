"""Writes outputs whose names carry terminal escapes, newlines and path-like tricks."""

from sklearn.linear_model import LogisticRegression


def build_model():
    for name in ("report\x1b[2J.txt", "a\nb.csv", "..\x7f", "-rf"):
        with open("/output/" + name, "w") as handle:
            handle.write("x")
    return LogisticRegression(max_iter=200)
