"""Hosted throughput: the same small jobs run by one worker and by two, in jobs per minute.

    python benchmarks/bench_hosted_workers.py [--jobs 12] [--repeat 2] [--rows 300]

Needs root, the Docker engine with the runner image, and the PostgreSQL and RabbitMQ of
`scripts/postgres.sh` and `scripts/broker.sh`. It builds one hosted sandbox of its own
(`tests/integration/hosted_stack.py`: fresh schemas, a vhost, the API under uvicorn on a free
loopback port) and packs `--jobs` pilots (the tests' binary pilot, `--rows` generated rows,
each its own seed). Then, trial after trial, alternating 1, 2, 2, 1, ... workers:

- it starts the trial's workers (`sandbox worker`, each with a home of its own) and waits
  until each is ready;
- the clock starts; every pilot is submitted through the API (4 at a time) and the clock
  stops when the last job is terminal (polled every half second);
- the workers are stopped.

It prints each trial, the median jobs per minute of each, and the ratio two/one. Each worker
runs one container at a time, so the ratio says how far a second worker host scales the pool;
on one machine both workers share its cores. Every job must finish and the trail must verify.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.hosted_stack import HostedStack, small_pilot, wait_for

CITY = ("northtown", "Northtown")


def _trial(stack: HostedStack, archives: list[bytes], workers: int, trial: int) -> float:
    """Seconds from the first submission to the last job's end, with `workers` workers."""
    names = [f"t{trial}-w{i}" for i in range(workers)]
    for name in names:
        stack.start_worker(name)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda archive: stack.submit(CITY[0], archive), archives))
        ids = []
        for answer in answers:
            if answer.status_code != 202:
                raise SystemExit(f"submission refused: {answer.status_code} {answer.text}")
            ids.append(answer.json()["job"]["id"])
        wait_for(lambda: all(stack.job(i).terminal for i in ids), "the jobs", 3600, every=0.5)
        elapsed = time.perf_counter() - started
    finally:
        for name in names:
            stack.stop(name)
    ended = [stack.job(i) for i in ids]
    if any(job.state.value != "finished" or job.error for job in ended):
        raise SystemExit(f"a job did not finish: {[j for j in ended if j.error]}")
    return elapsed


def run(jobs: int = 12, repeat: int = 2, rows: int = 300) -> dict[int, list[float]]:
    """Seconds per trial for 1 and 2 workers (`repeat` trials each, interleaved)."""
    with tempfile.TemporaryDirectory(prefix="bench-hosted-") as scratch:
        folder = Path(scratch)
        stack = HostedStack(folder)
        try:
            stack.add_city(*CITY)
            archives = [
                small_pilot(
                    folder / "pilots" / f"p{i}", city=CITY[1], name=f"bench-{i}", seed=i, rows=rows
                )
                for i in range(jobs)
            ]
            stack.start_api()
            order = [w for r in range(repeat) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
            times: dict[int, list[float]] = {1: [], 2: []}
            for trial, workers in enumerate(order):
                elapsed = _trial(stack, archives, workers, trial)
                times[workers].append(elapsed)
                rate = 60 * jobs / elapsed
                print(
                    f"  trial {trial + 1}: {workers} worker(s)  {elapsed:7.1f} s  "
                    f"{rate:5.2f} jobs/min",
                    flush=True,
                )
            verified = stack.verify()
            if verified.returncode != 0:
                raise SystemExit(f"the trail does not verify: {verified.stdout}{verified.stderr}")
        finally:
            stack.close()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=2, help="trials per worker count")
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args(argv)
    times = run(args.jobs, args.repeat, args.rows)
    rates = {w: 60 * args.jobs / statistics.median(t) for w, t in times.items()}
    print(
        f"{args.jobs} jobs of {args.rows} rows: 1 worker {rates[1]:.2f} jobs/min, "
        f"2 workers {rates[2]:.2f} jobs/min (medians of {args.repeat}); "
        f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
