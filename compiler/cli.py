"""The command line: a thin adapter over compiler.api (check, compile) and compiler.render.commands (render, cost, status, cancel)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

__all__ = ["main", "EXIT_OK", "EXIT_ERRORS", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE"]

EXIT_OK = 0        # nothing wrong (warnings allowed)
EXIT_ERRORS = 1    # the scenes have errors, a render failed, or an output could not be written
EXIT_USAGE = 2     # the command line itself is wrong (unknown option, missing path)
EXIT_INTERRUPTED = 130   # Ctrl-C (128 + SIGINT, as a shell reports it)
EXIT_BROKEN_PIPE = 141   # standard output closed early, as by `| head` (128 + SIGPIPE)


RENDER_COMMANDS = ("render", "status", "cancel", "cost")  # registered by compiler.render.commands
WRITER_COMMANDS = ("fmt", "preview")  # registered by compiler.writer_commands


class Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width up front: finding it itself imports shutil (~2 ms),
    and argparse builds a formatter for every argument added, even when no help is printed."""

    def __init__(self, prog: str, **options) -> None:
        options.setdefault("width", terminal_width() - 2)
        super().__init__(prog, **options)


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else 80 (what shutil.get_terminal_size() answers), at least 20:
    a width of 0 or less (a serial console, a pseudo-terminal nobody sized) would break help wrapping."""
    try:
        width = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        width = 0
    if width <= 0:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            width = 0
    return max(width, 20) if width > 0 else 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that command's sub-parser (start-up: check runs on every save)."""
    parser = argparse.ArgumentParser(
        prog="scenec", formatter_class=Formatter, description="Compile screenplay-style .scene files into Wan reference-to-video (wan2.7-r2v) requests.",
        epilog="exit codes: 0 clean, 1 errors found (or an output not written), 2 usage error, 130 interrupted, "
               "141 output closed early.  Docs: docs/language.md, docs/diagnostics.md")
    parser.add_argument("--version", action="version", version=f"scenec {__version__}")
    # prog given: argparse would otherwise build a HelpFormatter (and import shutil) to work it out.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="scenec")
    if only in (None, "check"):
        add_check(commands)
    if only in (None, "compile"):
        add_compile(commands)
    if only is None or only in RENDER_COMMANDS:
        add_render_commands(commands)
    if only is None or only in WRITER_COMMANDS:
        from .writer_commands import register

        register(commands, Formatter)
    if only in (None, "lsp"):
        from .lsp.command import register  # argparse only: pygls loads when the server starts
        register(commands)
    return parser


def add_check(commands) -> None:
    check = commands.add_parser("check", help="report every mistake in .scene files (files or folders)",
                                formatter_class=Formatter,
                                description="Check .scene files against the language and the API's rules.")
    check.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="a .scene file or a folder to search")
    check.add_argument("--format", choices=("human", "json", "github"), default="human",
                       help="human (default), json, or github (workflow annotations)")
    check.add_argument("--no-probe", action="store_true", help="do not open local media files (faster)")


def add_compile(commands) -> None:
    compile_ = commands.add_parser("compile", help="compile one .scene file into the request body (JSON)",
                                   formatter_class=Formatter,
                                   description="Compile a .scene file into the wan2.7-r2v request body.")
    compile_.add_argument("file", type=Path, metavar="FILE")
    compile_.add_argument("-o", "--output", type=Path, metavar="FILE",
                          help="write the JSON here: a file is replaced atomically, a symlink's target is written, "
                               "a device or named pipe (/dev/stdout, a FIFO) is written through, never replaced")
    compile_.add_argument("--explain", action="store_true", help="print the cast table and prompt beside the payload")
    compile_.add_argument("--format", choices=("human", "json", "github"), default="human",
                          help="how to print diagnostics (on standard error)")


def add_render_commands(commands) -> None:
    try:
        from .render.commands import register
    except ImportError:  # rendering not built yet
        return
    register(commands)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code. Ctrl-C and a closed output end quietly, never with a traceback."""
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_BROKEN_PIPE
    except OSError as error:
        # A path the system cannot use (a name over 255 bytes, a loop of links, an I/O error) that no
        # command turned into a message of its own: still a message, not a traceback.
        from .report import visible

        where = f"{error.filename}: " if error.filename else ""
        from .source import describe_os_error

        print(f"scenec: {visible(where + describe_os_error(error))}", file=sys.stderr)
        return EXIT_ERRORS


def _run(argv: list[str]) -> int:
    first = argv[0] if argv else None
    known = ("check", "compile", "lsp") + RENDER_COMMANDS + WRITER_COMMANDS
    parser = build_parser(only=first if first in known else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "check":
        return run_check(args)
    if args.command == "compile":
        return run_compile(args)
    return args.handler(args)


def collect(paths: list[Path], refused: list[tuple[Path, Path]] | None = None,
            suffixes: tuple[str, ...] = (".scene",)) -> tuple[list[Path], list[str]]:
    """Files to check, in a stable order, and the paths that do not exist.

    A path that exists but cannot be looked at (a name too long, no permission) is kept: reading it
    gives the diagnostic.  In a folder, a .scene that is a symlink out of both the folder and its
    project is not followed: it goes to `refused` as (link, target), or is named on stderr when the
    caller gives no `refused` list.  Non-regular files found there
    (a FIFO named x.scene) are kept too, and reading refuses them.
    """
    files, missing = [], []
    for path in paths:
        kind = _path_kind(path)
        if kind == "folder":
            for found in _walk(path, suffixes):
                target = _escapes(found, path)
                if target is None:
                    files.append(found)
                elif refused is not None:
                    refused.append((found, target))
                else:  # a caller without a place for them (render): said on stderr, never silently dropped
                    print(f"scenec: not following {found}: a symlink to {target}, outside the folder and its "
                          "project", file=sys.stderr)
        elif kind == "missing":
            missing.append(str(path))
        else:
            files.append(path)
    return files, missing


def _path_kind(path: Path) -> str:
    """'folder', 'missing', or 'other' (a file, or something whose reading will say what is wrong)."""
    import errno

    try:
        return "folder" if path.is_dir() else ("other" if os.path.lexists(path) else "missing")
    except OSError as error:
        return "missing" if error.errno == errno.ENOENT else "other"


def _walk(folder: Path, suffixes: tuple[str, ...] = (".scene",)) -> list[Path]:
    try:
        found = [p for suffix in suffixes for p in folder.rglob(f"*{suffix}")]
        return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    except OSError:
        return []


def _escapes(found: Path, folder: Path) -> Path | None:
    """The real path of a walked file that leaves both the folder walked and its project, else None."""
    from .project import find_project

    try:
        real = found.resolve()
        if real.is_relative_to(folder.resolve()) or real.is_relative_to(find_project(found).root.resolve()):
            return None
        return real
    except (OSError, RuntimeError):
        return None  # unresolvable (a loop): reading it reports the error


def print_diagnostics(diagnostics, fmt: str, files: list[str], stream) -> None:
    from . import report

    if fmt == "json":
        print(report.as_json(files, diagnostics), file=stream)
        return
    cache: dict = {}
    for diagnostic in diagnostics:
        if fmt == "github":
            print(report.github(diagnostic), file=stream)
        else:
            line = report.read_line(diagnostic.path, diagnostic.span.line, cache) if diagnostic.span else None
            print(report.human(diagnostic, line), file=stream)
    if fmt == "human":
        print(report.summary(len(files), diagnostics), file=stream)


def run_check(args) -> int:
    from .api import check_file
    from .diagnostics import has_errors
    from .report import visible

    refused: list[tuple[Path, Path]] = []
    files, missing = collect(args.paths, refused)
    if missing:
        print(f"scenec check: no such file or folder: {visible(', '.join(missing))}", file=sys.stderr)
        return EXIT_USAGE
    diagnostics = [not_followed(link, target) for link, target in refused]
    for path in files:
        diagnostics += check_file(path, probe=not args.no_probe)
    # A cast file or scenec.toml shared by several scenes is reported once, not once per scene.
    diagnostics = list(dict.fromkeys(diagnostics))
    print_diagnostics(diagnostics, args.format, [str(f) for f in files], sys.stdout)
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


def not_followed(link: Path, target: Path):
    from .diagnostics import make

    return make("path-outside-project", f"{link} is a symlink to {target}, outside the folder checked and its "
                "project: not followed", None, path=str(link))


def run_compile(args) -> int:
    from .api import compile_file
    from .report import json_safe, visible

    if _path_kind(args.file) == "missing":
        print(f"scenec compile: no such file: {visible(str(args.file))}", file=sys.stderr)
        return EXIT_USAGE
    result = compile_file(args.file)
    if result.diagnostics:
        print_diagnostics(result.diagnostics, args.format, [result.path], sys.stderr)
    if result.payload is None:
        return EXIT_ERRORS
    from .payload import to_json

    text = to_json(result.payload) + "\n"
    if args.explain:
        print(explain(result), file=sys.stdout if args.output else sys.stderr)
    if not args.output:
        # The same JSON value, with the characters a terminal would act on escaped.
        sys.stdout.write(json_safe(text))
        return EXIT_OK
    from .fs import write_atomic

    try:
        sys.stdout.flush()  # --explain's text first, when -o is /dev/stdout
        write_atomic(args.output, text)
    except OSError as error:
        from .source import describe_os_error

        print(f"scenec compile: cannot write {visible(str(args.output))}: {describe_os_error(error)}",
              file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK


def explain(result) -> str:
    """The cast table (name, kind, media index, identifier, voice) and the prompt."""
    from .emit import cast_table
    from .limits import LIMITS
    from .report import visible

    rows = cast_table(result.scene)
    headers = ("NAME", "KIND", "INDEX", "IDENTIFIER", "SOURCE", "VOICE")
    table = [headers] + [tuple(visible(str(cell)) for cell in (r["name"], r["kind"], r["index"], r["identifier"],
                                                                 r["source"][:48], r["voice"] or "-")) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    length = f"PROMPT ({len(result.prompt)} of {LIMITS.prompt_chars} characters)"
    prompt = [visible(line) for line in result.prompt.split("\n")]
    return "\n".join(lines + ["", length, *prompt, ""])
