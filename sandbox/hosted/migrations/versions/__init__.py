"""Alembic revisions of the hosted state, oldest first (see `sandbox.hosted.migrations`).

v0001_accounts.py  organisations, principals, principal_roles, auditor_grants, tokens
"""
