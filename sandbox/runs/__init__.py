"""Runs on the record: one recorder, one record, and the workflows built on them.

record.py             `RunRecord`: a run's state, carried (frozen) from stage to stage
recorder.py           `RunRecorder`: run folder, lock, state file, the run's trail records,
                      exactly one terminal record, tracking that never blocks, reports,
                      attestation and checkpoint, whatever happens inside
services.py           `RunServices`: the edges of a run (runtime, tracker, trail), built
                      from settings; `settle` closes dead runs and delivers queued tracking
pilot_run.py          a pilot, from manifest to verdict (workflow over the recorder)
container.py          the container stage: launch it, read and assess its outputs
early_start.py        the container started once the policies pass; the go after run.started
predictions_audit.py  audit a vendor's predictions alone, no container (workflow)
replay.py             re-run a recorded run and say whether it reproduces (workflow)
recovery.py           close the runs whose runner died, whatever kind of run they were
state.py              a run's state file and lock
"""
