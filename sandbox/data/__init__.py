"""The pilot's data on the host, and what of it crosses the container wall.

section.py   the manifest's `data` section: sources and how to read them, roles, the split
reader.py    one reader for CSV and Parquet files: pilot data and predictions files alike
limits.py    what a file may cost before it is read: rows, line length, values
table.py     the pilot table: row ids, features, label and group attributes as explicit parts
dataset.py   read and check the pilot's data files (label encoded by the task), the seeded split
adequacy.py  whether rows can be assessed at all (rows, label classes, groups): one check
             for a pilot's evaluation rows and for a predictions-only audit
wall.py      write the container's inputs (features only) and stage the pilot's code
"""
