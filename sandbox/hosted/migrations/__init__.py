"""The hosted state's schema history, as Alembic revisions applied by `sandbox.hosted.migrate`.

    versions/                  one module per revision, applied in order; each says what it
                               adds and can be undone (`downgrade`)
    versions/v0001_accounts.py organisations, principals, their roles, auditor grants, tokens

There is no `env.py`: `migrate(url)` drives Alembic itself, in one transaction under an
advisory lock. A new revision is a new module here whose `down_revision` is the previous
head, and `sandbox/hosted/tables.py` updated to match (a test compares the two).
"""
