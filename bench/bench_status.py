"""Start-up of `scenec status` (read the journal, no compiler): median and minimum of repeated runs.

Run: .venv/bin/python bench/bench_status.py [--runs N]. Bytecode is written (PYTHONDONTWRITEBYTECODE unset, as
users have it) and one warm-up run comes first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compiler", "status", str(ROOT / "scenes")], env=env, capture_output=True,
                   cwd=ROOT, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    run_once(env)  # warm-up: bytecode written
    times = [run_once(env) for _ in range(runs)]
    print(f"scenec status scenes/: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms over {runs} runs")


if __name__ == "__main__":
    main()
