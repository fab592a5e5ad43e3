"""Creates up to a million files in /output; the inode cap of the output tmpfs stops it."""

import os

from sklearn.linear_model import LogisticRegression


def build_model():
    os.makedirs("/output/many", exist_ok=True)
    created = 0
    try:
        while created < 1_000_000:
            open(f"/output/many/{created}", "wb").close()
            created += 1
    except OSError as exc:
        print(f"many-files: stopped after {created} files: {exc.strerror}")
    return LogisticRegression(max_iter=200)
