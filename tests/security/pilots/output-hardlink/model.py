"""Leaves a hard link in /output, hoping the host's extraction writes through it."""

import os

from sklearn.linear_model import LogisticRegression


def build_model():
    with open("/output/original.txt", "w") as handle:
        handle.write("data\n")
    os.link("/output/original.txt", "/output/hardlink.txt")
    return LogisticRegression(max_iter=200)
