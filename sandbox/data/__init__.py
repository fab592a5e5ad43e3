"""The pilot's data on the host, and what of it crosses the container wall.

reader.py    one reader for CSV and Parquet files: pilot data and predictions files alike
table.py     the pilot table: row ids, features, label and group attributes as explicit parts
dataset.py   read and check the pilot's data files (label encoded by the task), the seeded split
wall.py      write the container's inputs (features only) and stage the pilot's code
"""
