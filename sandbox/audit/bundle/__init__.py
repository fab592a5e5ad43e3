"""Evidence bundles: one archive holding everything needed to verify a run on another machine.

    contents.py   the bundle's format name, member names, and the hashes of a run's records
    export.py     `export_bundle`: gather a run's evidence, a trail slice and a checkpoint
    verify.py     `verify_bundle`: check an archive offline, stopping at the first problem

The archive's layout is described in `export.py`.
"""

from __future__ import annotations

from sandbox.audit.bundle.contents import BUNDLE_FORMAT, run_hashes
from sandbox.audit.bundle.export import export_bundle
from sandbox.audit.bundle.verify import BundleVerification, verify_bundle

__all__ = ["BUNDLE_FORMAT", "BundleVerification", "export_bundle", "run_hashes", "verify_bundle"]
