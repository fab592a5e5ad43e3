"""AI Commons Sandbox: run municipal AI pilots under governance."""

__version__ = "0.1.0"
