"""`make bench`: the timeline's drawing time, the emulator's throughput, batchops against the
boto3 baseline (several DAG shapes), status lag in polling and event mode, memory and CPU up to
20k tracked jobs, the poller's sweep to 100k active jobs, a 2,000-step pipeline and a
10,000-child array step, one plot.

    .venv/bin/python -m bench [--quick]

--quick runs every harness at a tenth of the size (a few minutes) to check they work.
"""

import subprocess
import sys

QUICK = "--quick" in sys.argv[1:]
STEPS = [
    [sys.executable, "-m", "bench.timeline", *(["--repeat", "3"] if QUICK else [])],
    [sys.executable, "bench/emulator_throughput.py"],
    [sys.executable, "-m", "bench.pipelines", *(["--scale", "0.1"] if QUICK else [])],
    [sys.executable, "-m", "bench.lag", *(["--loads", "10,30"] if QUICK else [])],
    [sys.executable, "-m", "bench.scale", *(["--levels", "200,1000"] if QUICK else [])],
    [sys.executable, "-m", "bench.sweep", *(["--levels", "2000,5000"] if QUICK else [])],
    [
        sys.executable,
        "-m",
        "bench.big",
        *(["--steps", "200", "--array-size", "1000"] if QUICK else []),
    ],
    [sys.executable, "-m", "bench.plot"],
]
for command in STEPS:
    print("+", " ".join(command[1:]), flush=True)
    if subprocess.call(command) != 0:
        sys.exit(1)
