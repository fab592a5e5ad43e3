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
    tables.py     the tables (SQLAlchemy Core), as the latest migration leaves them
    migrate.py    `migrate(url)`: Alembic revisions applied at start-up under an advisory lock
    migrations/   the Alembic revisions
    rows.py       the statements that read principals and tokens, and their rows as values
    accounts.py   `Accounts`: organisations, principals, audit grants, tokens, `authenticate`

Nothing here imports a web framework, MLflow or Docker: the submission endpoint, the queue
and the `submit` command call these functions. `access.py` and `identity.py` import no
database library; only `migrate.py` imports Alembic.
"""
