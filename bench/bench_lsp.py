"""Language server latency and memory, printed as figures (not asserted).

A 2,000-line scene (with its cast's media as local files) is opened in the real `scenec lsp` process;
then one-character edits, each sent as an incremental didChange once the previous one's diagnostics
arrived, and the time from sending the edit to receiving that version's publishDiagnostics.
Memory is the server's peak resident set (VmHWM) at the end.

Run: .venv/bin/python bench/bench_lsp.py [--edits N] [--lines N] [--at FRACTION] [--grow].  Record results
in docs/performance.md.  --at places the edited action line (0.5: the middle; 0.05: near the top, above the
line where this scene's too-long prompt crosses the limit, so that line is searched again at every edit).
By default a typed character is deleted by the next edit; --grow types every character without deleting
it, so each edit moves the rest of the scene one character further, as typing does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scene_text(lines: int) -> str:
    head = ["TITLE: Long", "DURATION: 10s", "CAST",
            "MAYA (the girl): video media/girl.mp4, voice media/girl.mp3",
            "LEO (the boy): image media/boy.jpg, voice media/boy.mp3", "ALLEY: background image media/alley.jpg", ""]
    body: list[str] = []
    index = 0
    while len(head) + len(body) < lines:
        body += [f"CUT TO CLOSE-UP ON {'LEO' if index % 2 else 'MAYA'}.",
                 f"MAYA looks at LEO across ALLEY, shot {index}.", "",
                 "LEO", "(after a pause)", "We should go.", ""]
        index += 1
    return "\n".join(head + body) + "\n"


class Server:
    """The server process and a reader thread that timestamps what it publishes."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, cwd=ROOT)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._id = 0

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = stream.read(1)
                if not byte:
                    return
                header += byte
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(stream.read(length))
            self.messages.put((time.perf_counter(), message))

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        message: dict = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self._id += 1
            message["id"] = self._id
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return message.get("id")

    def wait(self, accept) -> tuple[float, dict]:
        while True:
            arrived, message = self.messages.get(timeout=120)
            if accept(message):
                return arrived, message

    def peak_memory_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(entry for entry in status.splitlines() if entry.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def stop(self) -> None:
        ident = self.send("shutdown", {}, request=True)
        self.wait(lambda m: m.get("id") == ident)
        self.send("exit", {})
        self.process.wait(timeout=30)


def in_process(path: Path, text: str, line: int, grow: bool, count: int = 101) -> tuple[float, float]:
    """The compiler's share: what the server runs per edit (the same edits, each analysed from the previous
    version's analysis, as the server does), timed without the protocol; the median of `count` edits."""
    sys.path.insert(0, str(ROOT))
    from compiler.lsp import crossing, media_cache, shot_texts
    from compiler.lsp.analysis import analyse
    from compiler.lsp.documents import CastFiles

    media_cache.install()
    crossing.install()
    shot_texts.install()
    cast_files = CastFiles()
    lines = text.split("\n")
    previous = analyse(path.as_uri(), path, 1, text, cast_files)
    samples = []
    for version in range(2, count + 2):
        edited = list(lines)
        if grow:
            edited[line] = edited[line][:4] + "x" * (version - 1) + edited[line][4:]
        elif version % 2 == 0:
            edited[line] = edited[line][:4] + "x" + edited[line][4:]
        started = time.perf_counter()
        previous = analyse(path.as_uri(), path, version, "\n".join(edited), cast_files, previous)
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def published(uri: str, version: int):
    return lambda m: (m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri and m["params"].get("version") == version)


def run(lines: int, edits: int, at: float, grow: bool) -> None:
    project = Path(tempfile.mkdtemp(prefix="scenec-bench-lsp-"))
    try:
        shutil.copytree(ROOT / "scenes" / "media", project / "media")
        (project / "scenec.toml").write_text("")
        path = project / "long.scene"
        text = scene_text(lines)
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        server = Server([sys.executable, "-m", "compiler", "lsp"])
        ident = server.send("initialize", {"processId": os.getpid(), "rootUri": project.as_uri(),
                                           "capabilities": {}}, request=True)
        server.wait(lambda m: m.get("id") == ident)
        server.send("initialized", {})
        started = time.perf_counter()
        server.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "scene", "version": 1,
                                                              "text": text}})
        arrived, first = server.wait(published(uri, 1))
        print(f"{lines}-line scene ({len(text) // 1024} KiB): open to first diagnostics "
              f"{(arrived - started) * 1000:.0f} ms ({len(first['params']['diagnostics'])} diagnostics)")
        all_lines = text.split("\n")
        target_line = all_lines.index(next(line for line in all_lines[int(lines * at):]
                                           if line.startswith("MAYA looks")))
        print(f"edits typed into line {target_line + 1} of {len(all_lines) - 1}")
        samples = []
        for version in range(2, edits + 2):
            insert = grow or version % 2 == 0  # type a character, then (unless --grow) delete it
            change = {"range": {"start": {"line": target_line, "character": 4},
                                "end": {"line": target_line, "character": 4 if insert else 5}},
                      "text": "x" if insert else ""}
            sent = time.perf_counter()
            server.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                   "contentChanges": [change]})
            arrived, _ = server.wait(published(uri, version))
            samples.append(arrived - sent)
        samples.sort()
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(f"one-character edit -> diagnostics, {edits} edits: p50 {statistics.median(samples) * 1000:.1f} ms, "
              f"p95 {p95 * 1000:.1f} ms, max {samples[-1] * 1000:.1f} ms  (target: p95 under 50 ms)")
        print(f"server peak memory (VmHWM) {server.peak_memory_mb():.0f} MB  (target: under 150 MB)")
        server.stop()
        median, p95 = in_process(path, text, target_line, grow)
        print(f"the same edits analysed in-process (compiler only, no server), 101 edits: p50 {median:.1f} ms, "
              f"p95 {p95:.1f} ms")
    finally:
        shutil.rmtree(project, ignore_errors=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=2000)
    options.add_argument("--edits", type=int, default=200)
    options.add_argument("--at", type=float, default=0.5,
                         help="where the edited line is, as a fraction of the scene")
    options.add_argument("--grow", action="store_true", help="type every character without deleting it")
    args = options.parse_args()
    run(args.lines, args.edits, args.at, args.grow)


if __name__ == "__main__":
    main()
