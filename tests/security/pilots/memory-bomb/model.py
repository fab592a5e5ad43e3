"""Allocates memory without end: the memory limit must kill it ("oom_killed")."""


def build_model():
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))
        for index in range(0, len(hoard[-1]), 4096):
            hoard[-1][index] = 1  # touch every page so it is really allocated
