"""Scaling benchmark, printed as figures (not asserted): time and peak memory per shot as a scene grows,
and for the hostile shapes of issue 9.  Every stage should be linear: the per-shot figures stay flat.

Run: make bench  (or .venv/bin/python bench/bench_scaling.py [--quick]).  Record results in docs/performance.md.

Time is measured without tracing; peak memory in a second run under tracemalloc (Python allocations
made during the run, the input text not counted).
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import big_scene  # noqa: E402  (bench/bench.py: the same 7-line shot)


def measure(run, runs: int = 2) -> tuple[float, int]:
    """(seconds, peak bytes) of run(): the best of `runs` untraced runs (the machine is shared), and the
    peak from one run under tracemalloc."""
    elapsed = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        run()
        elapsed = min(elapsed, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def shots_scaling(sizes: tuple[int, ...]) -> None:
    from compiler.api import check, parse_text, resolve

    parse_text(big_scene(200))  # warm-up: the lexer compiles its patterns once per process
    print("shots: parse + resolve + check (probe off) in-process, per shot")
    print(f"  {'shots':>7} {'KiB':>6} {'total ms':>9} {'us/shot':>8} {'parse':>6} {'resolve':>7} {'check':>6} "
          f"{'peak MB':>8} {'B/shot':>7}")
    for shots in sizes:
        text = big_scene(shots)
        best: dict[str, float] = {}
        stages: dict[str, float] = {}

        def run(text: str = text, stages: dict[str, float] = stages, best: dict[str, float] = best) -> None:
            t0 = time.perf_counter()
            scene_file, _ = parse_text(text)
            t1 = time.perf_counter()
            scene, _ = resolve(scene_file)
            t2 = time.perf_counter()
            check(scene, probe=False)
            t3 = time.perf_counter()
            stages.update(parse=t1 - t0, resolve=t2 - t1, check=t3 - t2)
            if not tracemalloc.is_tracing() and t3 - t0 < best.get("total", float("inf")):
                best.update(stages, total=t3 - t0)

        elapsed, peak = measure(run)
        stages = best  # the split of the fastest untraced run
        print(f"  {shots:>7} {len(text) // 1024:>6} {elapsed * 1000:>9.0f} {elapsed / shots * 1e6:>8.1f} "
              f"{stages['parse'] / shots * 1e6:>6.1f} {stages['resolve'] / shots * 1e6:>7.1f} "
              f"{stages['check'] / shots * 1e6:>6.1f} {peak / 1e6:>8.1f} {peak / shots:>7.0f}")


def repeated_settings(size: int) -> str:
    line = "TITLE: a title said again\n"
    return line * (size // len(line)) + "CAST\nMAYA: image https://example.com/a.jpg\n\nMAYA waits.\n"


def members_and_mentions(members: int) -> str:
    """A cast of `members` names and a script mentioning as many near-miss capitalised words."""
    lines = ["CAST"] + [f"M{i:04d}X: image https://example.com/{i}.jpg" for i in range(members)] + [""]
    lines += [" ".join(f"Q{i:04d}X" for i in range(j, min(j + 10, members))) + " wait." for j in range(0, members, 10)]
    return "\n".join(lines) + "\n"


def syntax_errors(lines: int) -> str:
    return "CAST\n" + "X: picture y\n" * lines


def mesh(folder: Path, files: int) -> Path:
    """`files` cast files that all import each other, and a scene importing the first."""
    (folder / "scenec.toml").write_text("")
    for i in range(files):
        imports = "".join(f"CAST FROM f{j}.cast\n" for j in range(files) if j != i)
        (folder / f"f{i}.cast").write_text(imports + f"CAST\nM{i}: image https://example.com/{i}.jpg\n")
    scene = folder / "s.scene"
    scene.write_text("CAST FROM f0.cast\n\nM0 waits.\n")
    return scene


def fifo(folder: Path) -> Path:
    (folder / "scenec.toml").write_text("")
    scene = folder / "s.scene"
    scene.write_text("CAST FROM pipe.cast\nCAST\nMAYA: image https://example.com/a.jpg\n\nMAYA waits.\n")
    os.mkfifo(folder / "pipe.cast")
    return scene


def hostile(quick: bool) -> None:
    from compiler.api import check_file, compile_text

    print("hostile shapes (compile_text, or check_file for files), probe off")
    print(f"  {'shape':46s} {'size':>10} {'ms':>8} {'per unit':>14} {'peak MB':>8} {'diagnostics':>11}")
    texts = [(f"repeated settings, {size // 1024} KiB", "line", repeated_settings(size))
             for size in ((256 * 1024,) if quick else (256 * 1024, 1024 * 1024))]
    texts += [(f"{m:,} members x {m:,} near-miss mentions", "member", members_and_mentions(m))
              for m in ((250, 1250) if quick else (250, 1250, 5000))]
    texts += [(f"{n:,} lines of syntax errors", "line", syntax_errors(n)) for n in (1000, 100_000)]
    for name, unit, text in texts:
        units = text.count("\n") if unit == "line" else int(name.split()[0].replace(",", ""))
        found: list = []
        elapsed, peak = measure(lambda found=found, text=text: found.append(compile_text(text, probe=False)))
        print(f"  {name:46s} {len(text) // 1024:>7} KiB {elapsed * 1000:>8.0f} "
              f"{elapsed / units * 1e6:>8.1f} us/{unit:<5}"
              f"{peak / 1e6:>8.1f} {len(found[-1].diagnostics):>11}")
    for files in ((9, 50) if quick else (9, 50, 200)):
        with tempfile.TemporaryDirectory() as folder:
            scene = mesh(Path(folder), files)
            found = []
            elapsed, peak = measure(lambda found=found, scene=scene: found.append(check_file(scene, probe=False)))
            lines = files * (files - 1)
            print(f"  {f'{files} cast files importing each other':46s} {lines:>6} imp {elapsed * 1000:>8.0f} "
                  f"{elapsed / lines * 1e6:>8.1f} us/import{peak / 1e6:>6.1f} {len(found[-1]):>11}")
    if hasattr(os, "mkfifo"):
        with tempfile.TemporaryDirectory() as folder:
            scene = fifo(Path(folder))
            found = []
            elapsed, peak = measure(lambda: found.append(check_file(scene, probe=False)))
            print(f"  {'CAST FROM a FIFO':46s} {'':>10} {elapsed * 1000:>8.1f} {'':>14} {peak / 1e6:>8.1f} "
                  f"{len(found[-1]):>11}")


def main() -> int:
    quick = "--quick" in sys.argv
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    shots_scaling((1000, 10_000) if quick else (1000, 10_000, 50_000))
    hostile(quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
