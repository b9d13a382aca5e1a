"""Benchmarks of the writer's loop, printed (not asserted), each against `scenec check` on the same input in the
same run: `scenec fmt --check` on 500 scenes, and the preview of a 2,000-shot scene.

Run: make bench  (or .venv/bin/python bench/bench_writer.py).  Record results in docs/performance.md.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BIN = Path(sys.executable).parent
SCENES = 500


def small_scene(index: int) -> str:
    """A scene the size of the examples: settings, three cast members, eight shots with action and dialogue."""
    lines = [f"-- Scene {index} of the benchmark.", f"TITLE: Scene {index}", "DURATION: 10s", "RESOLUTION: 720P", "",
             "CAST", "MAYA (the girl): video https://example.com/girl.mp4, voice https://example.com/girl.mp3",
             "LEO (the boy):   image https://example.com/boy.jpg",
             "ALLEY:           background image https://example.com/a.jpg", ""]
    for shot in range(8):
        lines += [f"CUT TO CLOSE-UP ON {'LEO' if shot % 2 else 'MAYA'}.",
                  f"MAYA looks at LEO across ALLEY ({shot}).", "",
                  "LEO", "(quietly)", "Go.", ""]
    return "\n".join(lines)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def subprocess_median(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of a command; CPU time is what a loaded shared
    machine distorts least."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(command, capture_output=True, env=env, cwd=ROOT)  # warm caches
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), children_cpu()
        subprocess.run(command, capture_output=True, env=env, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def in_process_median(call, runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def row(label: str, figures: tuple[float, float], against: tuple[float, float] | None = None) -> str:
    wall, cpu = figures
    text = f"  {label:30s} wall {wall * 1000:8.1f} ms   cpu {cpu * 1000:8.1f} ms"
    if against:
        text += f"   ratio wall {wall / against[0]:.2f}x, cpu {cpu / against[1]:.2f}x"
    return text


def fmt_500(folder: Path, runs: int = 5) -> None:
    from compiler.api import check_file
    from compiler.fmt import format_text

    files = []
    for index in range(SCENES):
        path = folder / f"scene-{index:03d}.scene"
        path.write_text(small_scene(index), encoding="utf-8")
        files.append(path)
    scenec = str(BIN / "scenec")
    fmt = subprocess_median([scenec, "fmt", "--check", str(folder)], runs)
    check = subprocess_median([scenec, "check", "--no-probe", str(folder)], runs)
    texts = [(p, p.read_text(encoding="utf-8")) for p in files]
    fmt_in = in_process_median(lambda: [format_text(t, p) for p, t in texts], runs)
    check_in = in_process_median(lambda: [check_file(p, probe=False) for p in files], runs)
    size = sum(len(t) for _, t in texts) // 1024
    print(f"{SCENES} scenes ({size} KiB), median of {runs}:")
    print(row("scenec check --no-probe DIR", check))
    print(row("scenec fmt --check DIR", fmt, check))
    print(row("check_file, in-process", check_in))
    print(row("format_text, in-process", fmt_in, check_in))


def preview_2000(folder: Path, runs: int = 5) -> None:
    from bench import big_scene
    from compiler.api import check_file
    from compiler.preview import build_page

    path = folder / "long.scene"
    path.write_text(big_scene(2000), encoding="utf-8")
    build_page(path)  # templates compiled once, as in a --watch session
    check_in = in_process_median(lambda: check_file(path, probe=False), runs)
    preview_in = in_process_median(lambda: build_page(path), runs)
    scenec = str(BIN / "scenec")
    output = folder / "long.html"
    preview = subprocess_median([scenec, "preview", str(path), "-o", str(output)], runs)
    check = subprocess_median([scenec, "check", str(path)], runs)
    print(f"2,000-shot scene ({path.stat().st_size // 1024} KiB, page {output.stat().st_size // 1024} KiB), "
          f"median of {runs}:")
    print(row("check_file, in-process", check_in))
    print(row("build_page, in-process", preview_in, check_in))
    print(row("scenec check FILE", check))
    print(row("scenec preview FILE -o", preview, check))


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    with tempfile.TemporaryDirectory() as folder:
        many = Path(folder) / "many"
        many.mkdir()
        fmt_500(many)
        preview_2000(Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
