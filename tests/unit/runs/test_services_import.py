"""Building a run's services starts before the run's heavy imports."""

from __future__ import annotations

import subprocess
import sys


def test_the_services_module_loads_without_numpy_pandas_or_docker() -> None:
    # `sandbox run` builds its services (spawning the MLflow sidecar) before it imports the
    # run itself, so MLflow loads beside pandas and the policies; that only helps while
    # importing the services module costs nothing of them.
    probe = (
        "import sys, sandbox.runs.services, sandbox.runtime;"
        "print(sorted({'numpy', 'pandas', 'pyarrow', 'docker', 'mlflow'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
