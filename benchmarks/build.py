"""Benchmark: `python -m appstorage.build` for the bundled example as a whole process,
against the floor of a Python process that only imports troposphere, awacs and cfn_flip.

Run: python benchmarks/build.py [--runs N]
Target: the build costs at most 2x the import floor.

Two build figures are printed: with the YAML cache warm (what every re-run pays: the cache
holds cfn-flip's output keyed by the JSON it came from) and with --no-cache (a first build
on a fresh machine, dominated by cfn-flip's pure-Python YAML emitter).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def _time(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache and .pyc files
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        floor = _time([sys.executable, "-c", "import troposphere, awacs, cfn_flip"], args.runs)
        command = [sys.executable, "-m", "appstorage.build", "--out", out, "--format", "both"]
        build = _time(command, args.runs)
        cold = _time([*command, "--no-cache"], args.runs)
    f, b, c = statistics.median(floor), statistics.median(build), statistics.median(cold)
    print(f"runs per command:                 {args.runs}")
    print(f"import floor median:              {f * 1000:7.1f} ms  (min {min(floor) * 1000:.1f})")
    print(f"build, YAML cache warm (median):  {b * 1000:7.1f} ms  (min {min(build) * 1000:.1f})")
    print(f"build, --no-cache (median):       {c * 1000:7.1f} ms  (min {min(cold) * 1000:.1f})")
    print(f"ratio warm / floor:               {b / f:7.2f}x  (target <= 2.00x)")
    print(f"ratio --no-cache / floor:         {c / f:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
