"""Fills /output with bytes until the disk (a capped tmpfs) is full, and keeps the space."""

import os

CHUNK = b"y" * (1024 * 1024)


def build_model():
    os.makedirs("/output/filler", exist_ok=True)
    index = 0
    while True:  # ends with ENOSPC, or with the memory limit
        with open(f"/output/filler/{index}.bin", "wb") as handle:
            for _ in range(64):
                handle.write(CHUNK)
        index += 1
