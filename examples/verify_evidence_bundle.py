# Shows: how an auditor verifies one run's evidence bundle offline against the city's pinned
# public key, and what happens when a byte of the bundle is changed.
# Usage: python examples/verify_evidence_bundle.py [WORK_DIR]
"""Export a run's evidence bundle, then verify it as an auditor would, with a pinned key."""

import subprocess
import sys
from pathlib import Path

from sandbox.runs.predictions_audit import audit_predictions
from sandbox.runs.services import build_services
from sandbox.settings import Settings

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bundle-example")
work.mkdir(parents=True, exist_ok=True)


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    """The `sandbox` command line, as the city and the auditor run it."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, check=False
    )


# 1. The city: a run on the record (a predictions-only audit here, so no container is needed).
(work / "predictions.csv").write_text(
    "district,eligible,referred\n"
    + "".join(f"{d},{(i // 2) % 2},{(i // 3) % 2}\n" for i in range(400) for d in ["N", "S"]),
    encoding="utf-8",
)
run_id = audit_predictions(
    work / "predictions.csv",
    label="eligible",
    prediction="referred",
    sensitive=["district"],
    services=build_services(Settings()),
    out_dir=work / "reports",
).run_id

# 2. The city publishes its public keys and hands over one run's bundle.
sandbox("audit", "export-keys", str(work / "city-keys")).check_returncode()
bundle = work / "bundle.tar.gz"
sandbox("audit", "export", run_id, "--out", str(bundle)).check_returncode()

# 3. The auditor verifies it with the key they pinned (obtained from the city, not the bundle).
verified = sandbox("audit", "verify-bundle", str(bundle), "--keys", str(work / "city-keys"))
print(verified.stdout)
assert verified.returncode == 0 and "trusted: pinned" in verified.stdout

# 4. A bundle altered in transit does not verify.
tampered = work / "tampered.tar.gz"
data = bytearray(bundle.read_bytes())
data[len(data) // 2] ^= 0xFF
tampered.write_bytes(bytes(data))
refused = sandbox("audit", "verify-bundle", str(tampered), "--keys", str(work / "city-keys"))
print(refused.stderr.strip().splitlines()[0] if refused.stderr else refused.stdout)
assert refused.returncode != 0
