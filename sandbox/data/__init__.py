"""The pilot's data on the host, and what of it crosses the container wall.

section.py   the manifest's `data` section: sources and how to read them, roles, the split
checksums.py shipped data checked against data/SHA256SUMS before anything reads it
reader.py    one reader for CSV and Parquet files: pilot data and predictions files alike
limits.py    what a file may cost before it is read: rows, line length, values
hashed.py    each source's bounds and SHA-256 from one scan, then its table, from the same
             unchanged file
table.py     the pilot table: row ids, features, label and group attributes as explicit parts
dataset.py   read and check the pilot's data files (label encoded by the task)
roles.py     data roles: train, evaluation and score sources; the scored cases and scored.csv
split.py     the split of the labelled rows: by source, time-based, group-aware, seeded random
shuffled.py  seeded shuffle splits drawn as scikit-learn draws them, without importing it
holdout.py   the harness's importance hold-back, drawn on the host (fitted rows first)
coherence.py whether the data section's roles, split and id fit together (pilot.yaml checks)
adequacy.py  whether rows can be assessed at all (rows, label classes, groups): one check
             for a pilot's evaluation rows and for a predictions-only audit
supplied.py  a predictions-only audit's used columns, a block at a time: classes and groups
             as compact codes, numbers and scores as float64
coded_blocks.py  those columns built block by block, within bounds on rows and values
wall.py      write the container's inputs (features only) and stage the pilot's code
"""
