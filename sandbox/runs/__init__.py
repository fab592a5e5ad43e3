"""Runs on the record: the workflows and what they share.

services.py           the real edges of a run (runtime, tracker, trail) built from settings
pilot_run.py          a pilot, from manifest to verdict, every stage on the record
container.py          launching the container and turning its outcome into rule outcomes
predictions_audit.py  audit a vendor's predictions alone (no container)
replay.py             re-run a recorded run and say whether it reproduces
recovery.py           close runs whose runner died
state.py              a run's state file and lock
"""
