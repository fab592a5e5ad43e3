"""A pilot whose model tries to phone out to host:port: the network must be unreachable."""

import socket

from sklearn.dummy import DummyClassifier


class Probe(DummyClassifier):
    def __init__(self, host="", port=0, strategy="prior", random_state=None):
        super().__init__(strategy=strategy, random_state=random_state)
        self.host = host
        self.port = port

    def fit(self, X, y):
        try:
            with socket.create_connection((self.host, self.port), timeout=3) as connection:
                connection.sendall(b"leaked")
        except OSError as exc:
            raise RuntimeError(f"network blocked: {exc!r}") from exc
        return super().fit(X, y)


def build_model(host: str, port: int):
    return Probe(host=host, port=port)
