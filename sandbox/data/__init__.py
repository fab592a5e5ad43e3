"""The pilot's data on the host, and what of it crosses the container wall.

dataset.py   read and check the pilot's data files, the seeded split
wall.py      write the container's inputs (features only) and stage the pilot's code
"""
