"""The read-only web API and dashboard (FastAPI)."""

from sandbox.api.app import create_app

__all__ = ["create_app"]
