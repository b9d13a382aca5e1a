"""Start-up of `scenec check scenes/alley.scene` in two checkouts, measured alike (docs/performance.md).

    python bench/bench_startup_diff.py OLD_CHECKOUT NEW_CHECKOUT [RUNS]

Bytecode is written (PYTHONDONTWRITEBYTECODE unset, three warm-up runs), as a user has it.  The two checkouts
run interleaved, run by run, so that the load of a shared machine falls on both alike; each run is one
subprocess of this interpreter with the checkout as its working folder (so `compiler` is that checkout's).
Printed: the median and least wall time of each, `python -c pass` beside them, and from `-X importtime` the sum
over modules of each module's least self time (steadier than a wall time), with the modules only one side
imports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CODE = "import sys; sys.argv = ['scenec', 'check', 'scenes/alley.scene']; from compiler.__main__ import main; main()"
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def wall_ms(args: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def least_self_times(cwd: Path, runs: int) -> dict[str, int]:
    """Module -> its least self import time in microseconds over `runs` runs."""
    best: dict[str, int] = {}
    for _ in range(runs):
        lines = subprocess.run([sys.executable, "-X", "importtime", "-c", CODE], cwd=cwd, env=ENV,
                               capture_output=True, text=True).stderr.splitlines()
        for line in lines:
            fields = line.removeprefix("import time:").split("|")
            if len(fields) != 3 or not fields[0].strip().isdigit():
                continue  # the header line
            name = fields[2].strip()
            best[name] = min(best.get(name, 1 << 40), int(fields[0]))
    return best


def main() -> int:
    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    for _ in range(3):
        wall_ms(["-c", CODE], old), wall_ms(["-c", CODE], new)
    bare: list[float] = []
    times: dict[Path, list[float]] = {old: [], new: []}
    for _ in range(runs):
        bare.append(wall_ms(["-c", "pass"]))
        for checkout in (old, new):
            times[checkout].append(wall_ms(["-c", CODE], checkout))
    print(f"load average {os.getloadavg()[0]:.2f}, {runs} runs each, interleaved")
    print(f"python -c pass: median {statistics.median(bare):.1f} ms (least {min(bare):.1f})")
    for checkout, found in times.items():
        print(f"{checkout}: median {statistics.median(found):.1f} ms (least {min(found):.1f})")
    imports = {checkout: least_self_times(checkout, 25) for checkout in (old, new)}
    for checkout, best in imports.items():
        ours = sum(us for name, us in best.items() if name.startswith("compiler"))
        print(f"{checkout}: imports {sum(best.values()) / 1000:.1f} ms (compiler.* {ours / 1000:.2f} ms), "
              f"{len(best)} modules")
    print("only old:", ", ".join(sorted(set(imports[old]) - set(imports[new]))) or "-")
    print("only new:", ", ".join(f"{name} {imports[new][name] / 1000:.2f} ms"
                                 for name in sorted(set(imports[new]) - set(imports[old]))) or "-")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
