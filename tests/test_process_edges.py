"""The process's edges: outputs that are not regular files, Ctrl-C from scenec's first line, a closed
standard output, and terminals of odd widths and types. None of them ends in a traceback or a hang."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from compiler.cli import EXIT_BROKEN_PIPE, EXIT_ERRORS, EXIT_INTERRUPTED, EXIT_OK, main, terminal_width
from compiler.fs import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SCENEC = Path(sys.executable).parent / "scenec"
ALLEY = ROOT / "scenes" / "alley.scene"


# --- outputs ------------------------------------------------------------------------------------------------


def test_a_regular_file_is_replaced_atomically_and_a_long_name_works(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    before = target.stat().st_ino
    write_atomic(target, "new")
    assert target.read_text() == "new" and target.stat().st_ino != before  # a new file renamed over the old
    long = tmp_path / ("n" * 250 + ".json")  # 255 bytes: the temporary name must not grow past the limit
    write_atomic(long, "x")
    assert long.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == sorted([long.name, "out.json"])


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "out.json"
    target.parent.mkdir()
    target.write_text("old")
    link, chain = tmp_path / "link.json", tmp_path / "chain.json"
    link.symlink_to(target)
    chain.symlink_to(link)
    write_atomic(chain, "new")
    assert link.is_symlink() and chain.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.json"]  # no temporary file left


def test_refused_targets_raise_oserror_and_change_nothing(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in (dangling, folder):
        with pytest.raises(OSError):
            write_atomic(path, "x")
    assert dangling.is_symlink() and not (tmp_path / "nowhere").exists() and folder.is_dir()


def test_a_device_is_written_through_never_replaced() -> None:
    write_atomic(Path("/dev/null"), "payload")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_through_to_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    payload = bytes(range(256)) * 1200  # 300 kB: more than a pipe holds, so the reader must drain it meanwhile
    received = bytearray()
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader exists before the writer opens

    def read() -> None:
        import select

        while True:
            select.select([fd], [], [], 0.05)
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if chunk:
                received.extend(chunk)
            elif received:  # end of file once the writer has written and closed
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        write_atomic(fifo, payload)
        reader.join(60)
    finally:
        os.close(fd)
    assert bytes(received) == payload and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_without_a_reader_is_refused_not_waited_on(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    assert main(["compile", str(ALLEY), "-o", str(fifo)]) == EXIT_ERRORS
    err = capsys.readouterr().err
    assert f"cannot write {fifo}" in err and "reading" in err and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_compile_to_dev_stdout_writes_through_the_pipe_and_the_file_behind_it(tmp_path: Path) -> None:
    piped = subprocess.run([str(SCENEC), "compile", str(ALLEY), "-o", "/dev/stdout"], capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout.startswith(b"{") and b"Traceback" not in piped.stderr
    out = tmp_path / "out.json"
    with out.open("wb") as stream:
        done = subprocess.run([str(SCENEC), "compile", str(ALLEY), "-o", "/dev/stdout", "--explain"], stdout=stream,
                              stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0 and b"PROMPT" in out.read_bytes() and out.read_bytes().rstrip().endswith(b"}")


# --- signals and closed outputs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_scene(tmp_path_factory) -> Path:
    """A scene whose check takes well over a second, so a Ctrl-C lands while scenec is at work."""
    path = tmp_path_factory.mktemp("slow") / "slow.scene"
    shots = "".join(f"MAYA waves at the camera, take {i}.\n\n" for i in range(20000))
    path.write_text(f"CAST\nMAYA: image https://example.com/a.jpg\n\n{shots}", encoding="utf-8")
    return path


def test_a_ctrl_c_python_cannot_raise_still_ends_with_130_and_no_traceback() -> None:
    """A KeyboardInterrupt in a finalizer is "unraisable": Python would print it and go on."""
    code = ("import compiler.__main__\n"
            "class Finalized:\n"
            "    def __del__(self):\n"
            "        raise KeyboardInterrupt\n"
            "Finalized()\n"
            "print('went on')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")


def test_ctrl_c_from_scenecs_first_line_on_exits_130_without_a_traceback(slow_scene: Path) -> None:
    # Python reports each import as it completes; the signal is sent a while after the console script has
    # imported compiler.__main__ (scenec's first line): during the imports of the command line, the parse, the
    # check. Only Python's own start-up comes before that, and is out of scenec's reach (docs/rendering.md).
    codes = []
    for delay in (0, 0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.15):
        env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
        child = subprocess.Popen([str(SCENEC), "check", str(slow_scene)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, env=env)
        assert child.stderr is not None
        seen = []
        for line in child.stderr:
            seen.append(line)
            if line.rstrip().endswith(b"| compiler.__main__"):
                break
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        _, rest = child.communicate(timeout=120)
        stderr = b"".join(seen) + rest
        assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr, (delay, stderr[-600:])
        codes.append(child.returncode)
    assert codes[0] == EXIT_INTERRUPTED and set(codes) <= {EXIT_INTERRUPTED, EXIT_OK, EXIT_ERRORS}, codes


@pytest.mark.parametrize(("args", "code"), [(["check", "{slow}"], EXIT_BROKEN_PIPE),
                                           (["check", "--format", "json", "{slow}"], EXIT_BROKEN_PIPE),
                                           (["compile", str(ALLEY)], EXIT_BROKEN_PIPE),
                                           (["compile", str(ALLEY), "-o", "/dev/stdout"], EXIT_ERRORS),
                                           (["--help"], EXIT_OK)])  # argparse drops help it cannot print
def test_a_closed_standard_output_ends_quietly(args: list[str], code: int, slow_scene: Path) -> None:
    child = subprocess.Popen([str(SCENEC), *(a.format(slow=slow_scene) for a in args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.close()  # as `| head -0` does, before scenec has written anything
    _, err = child.communicate(timeout=120)
    assert child.returncode == code and b"Traceback" not in err and b"Exception" not in err, err[-600:]
    assert err == b"" or err.startswith(b"scenec compile: cannot write /dev/stdout: Broken pipe"), err


# --- terminals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("columns", "width"), [("0", None), ("-7", None), ("abc", None), ("5", 20), ("132", 132)])
def test_terminal_width_is_never_zero(columns: str, width: int | None, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width() >= 20 and (width is None or terminal_width() == width)


@pytest.mark.parametrize("env", [{"COLUMNS": "0"}, {"COLUMNS": "1"}, {"TERM": "dumb"}, {"TERM": ""},
                                 {"TERM": "xterm-nonesuch", "COLUMNS": "-1"}])
def test_help_and_check_work_on_odd_terminals(env: dict[str, str], monkeypatch, capsys) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--help"]) == EXIT_OK
    assert "--format" in capsys.readouterr().out
    assert main(["check", str(ALLEY)]) == EXIT_OK
    assert "1 file checked" in capsys.readouterr().out


# --- paths the system cannot use ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["check", "{long}"], ["check", "--format", "json", "{long}"], ["compile", "{long}"],
                                  ["compile", str(ALLEY), "-o", "{long}"], ["render", "{long}"], ["cost", "{long}"],
                                  ["status", "{long}"], ["cancel", "{long}"]])
def test_a_name_over_255_bytes_is_a_message_for_every_command(args, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/api/v1")  # nothing is sent: the path fails first
    long = str(tmp_path / ("\x1b" + "a" * 300 + ".scene"))
    code = main([a.format(long=long) for a in args])
    out, err = capsys.readouterr()
    said = out + err  # check and compile report it as a diagnostic (stdout), the others on stderr
    assert code in (EXIT_ERRORS, 2) and "too long" in said and "\x1b" not in said and "Traceback" not in said, said


@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/null", "{tmp}"])
def test_render_refuses_an_output_with_no_place_for_its_video_before_paying(target, tmp_path: Path, monkeypatch,
                                                                           capsys) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/api/v1")  # nothing may be sent
    code = main(["render", str(ALLEY), "-o", target.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "nothing was submitted" in err, err
