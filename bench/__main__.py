"""`make bench`: the emulator's own throughput, then batchops against the raw boto3 loop."""

import subprocess
import sys

sys.exit(
    subprocess.call([sys.executable, "bench/emulator_throughput.py"])
    or subprocess.call([sys.executable, "-m", "bench.pipelines", *sys.argv[1:]])
)
