"""Benchmarks, printed as figures (not asserted): cold `scenec check` start-up and a 2,000-shot scene in-process.

Run: make bench  (or .venv/bin/python bench/bench.py).  Record results in docs/performance.md.
"""

from __future__ import annotations

import compileall
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def timed_runs(command: list[str], runs: int) -> list[float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(command, capture_output=True, env=env, cwd=ROOT)  # warm the OS file cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return samples


def cold_check(runs: int = 30) -> None:
    # Installed wheels carry bytecode; an editable checkout gets it here once, as an install would.
    compileall.compile_dir(str(ROOT / "compiler"), quiet=1)
    scenec = str(BIN / "scenec")
    bare = statistics.median(timed_runs([sys.executable, "-c", "pass"], runs))
    check = statistics.median(timed_runs([scenec, "check", "scenes/alley.scene"], runs))
    print(f"python -c pass                      median {bare * 1000:7.1f} ms  ({runs} runs)")
    print(f"scenec check scenes/alley.scene     median {check * 1000:7.1f} ms  ({runs} runs)")
    print(f"ratio                                      {check / bare:7.2f} x  (target: within 4x)")


def big_scene(shots: int) -> str:
    lines = ["TITLE: Long", "DURATION: 10s", "CAST",
             "MAYA (the girl): video https://example.com/girl.mp4, voice https://example.com/girl.mp3",
             "LEO (the boy): image https://example.com/boy.jpg",
             "ALLEY: background image https://example.com/alley.jpg", ""]
    for index in range(shots):
        lines += [f"CUT TO CLOSE-UP ON {'LEO' if index % 2 else 'MAYA'}.",
                  f"MAYA looks at LEO across ALLEY, shot {index}.", "",
                  "LEO", "(after a pause)", "We should go.", ""]
    return "\n".join(lines)


def in_process(shots: int = 2000, runs: int = 7) -> None:
    from compiler.api import check, parse_text, resolve

    text = big_scene(shots)
    parse_text("TITLE: warm-up\n")  # build the parser tables once, as a language server would
    timings = {"parse": [], "resolve": [], "check": [], "total": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        scene_file, _ = parse_text(text)
        t1 = time.perf_counter()
        scene, _ = resolve(scene_file)
        t2 = time.perf_counter()
        diagnostics = check(scene, probe=False)
        t3 = time.perf_counter()
        for key, value in (("parse", t1 - t0), ("resolve", t2 - t1), ("check", t3 - t2), ("total", t3 - t0)):
            timings[key].append(value)
    print(f"{shots}-shot scene ({len(text) // 1024} KiB, {len(scene.shots)} shots, {len(diagnostics)} diagnostics), "
          f"median of {runs}:")
    for key, values in timings.items():
        print(f"  {key:8s} {statistics.median(values) * 1000:8.1f} ms")
    print("  target: check under 200 ms in-process")


HOSTILE = {
    "20,000 comment lines": "CAST\nMAYA: image https://x/a.jpg\n\nMAYA waits.\n" + "-- c\n" * 20000 + "MAYA goes.\n",
    "a 500,000-character action line": "CAST\nMAYA: image https://x/a.jpg\n\nMAYA " + "a" * 500000 + "\n",
    "a 200,000-character capitals line": "CAST\nMAYA: image https://x/a.jpg\n\n" + "A " * 100000 + "\n",
    "5,000 broken cast lines": "CAST\n" + "X: picture y\n" * 5000,
    "300,000 spaces": " " * 300000,
}


def hostile() -> None:
    """Inputs that once took seconds (quadratic 'did you mean' on a huge word): each must stay fast."""
    from compiler.api import compile_text

    print("hostile inputs, compile_text in-process:")
    for name, text in HOSTILE.items():
        start = time.perf_counter()
        result = compile_text(text)
        print(f"  {name:36s} {(time.perf_counter() - start) * 1000:8.1f} ms  ({len(result.diagnostics)} diagnostics)")


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    cold_check()
    in_process()
    hostile()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
