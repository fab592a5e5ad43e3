"""A hosted sandbox's pilot archive: packed by a city's client, checked by the server as it
streams in, kept by its hash, and unpacked into an ordinary pilot folder.

    limits.py     `ArchiveLimits` (sizes, counts, name length and depth) and the naming rules
                  every entry meets: no absolute or `..` names, no control characters or
                  backslashes, no collisions after NFC normalisation and case folding
    packing.py    `pack_pilot`: a pilot folder as a deterministic .tar.gz (client side)
    inflate.py    the compressed body: counted, hashed and spooled chunk by chunk; a bounded
                  gunzip that refuses a bomb at the decompressed limit
    tarstream.py  a strict streaming reader of ustar/pax headers, each read capped in advance
    scan.py       one streaming pass over an archive: every limit and entry rule
    intake.py     `receive_archive` and `ArchiveStore`: a checked upload kept as
                  ``<store>/<sha256>.tar.gz`` (server side)
    unpack.py     `unpack_archive`: a stored archive re-checked and extracted with tarfile's
                  `data` filter into a new 0700 folder that `load_manifest` reads

Who may submit, read and decide, on PostgreSQL (the `hosted` extra):

    identity.py   `Organisation`, `Principal`, `Role`, `Kind`; the rules for ids and names
    access.py     `allowed(principal, action, organisation)`, the access matrix as a pure
                  function, and `owner_of_submission`: a pilot is its submitter's organisation's
    tokens.py     the token format `sbx_<prefix>_<secret>`, `TokenInfo`; only a hash is kept
    database.py   the database URL, checked and shown without its password; engines; errors
    repository.py `Repository`: an engine, a UTC clock and transactions whose errors hide
                  the password; `Accounts`, `Jobs` and `Reviews` build on it
    tables.py     the tables (SQLAlchemy Core), as the latest migration leaves them
    migrate.py    `migrate(url)`: Alembic revisions applied at start-up under an advisory lock
    migrations/   the Alembic revisions
    rows.py       the statements that read principals and tokens, and their rows as values
    accounts.py   `Accounts`: organisations, principals, audit grants, tokens, `authenticate`

Jobs, run by the workers (`sandbox.worker`):

    job_states.py `Job`, `JobState`, `plan_delivery`: what a delivery does (pure), the lease
    jobs.py       `Jobs`: create, list, cancel; claim, renew the lease, end (compare-and-set)
    job_lock.py   `JobLock`: the job's advisory lock, taken again after a dropped connection

Decisions on runs, kept in the signed trail first and copied into tables:

    phases.py       the register's phases, the capacities a phase requires, the move rule
    runfacts.py     what the trail says of a run: organisation, pilot, phase, verdict
    review_rows.py  `SignOff`, `PhaseMove`; rows caught up with their trail records
    reviews.py      `Reviews`: `sign_off`, `sign_offs`, `phase`, `move_phase`
    journey.py      `pilot_journey`: a pilot's runs, verdicts, sign-offs and moves, in order

The client side of the API, for `sandbox submit` and `sandbox jobs` (httpx, no database):

    client.py     `HostedClient`: https (plain http to loopback only), timeouts, capped answers
    views.py      `JobView`, `PreRun`, `Submission`: the server's answers checked and bounded;
                  `verdict_exit_code`

Nothing here imports a web framework, MLflow or Docker: the submission endpoint, the queue
and the `submit` command call these functions. `access.py` and `identity.py` import no
database library; only `migrate.py` imports Alembic.
"""
