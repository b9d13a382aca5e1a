"""The command line: a thin adapter over compiler.api (check, compile) and compiler.render.commands (render, cost, status, cancel)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

__all__ = ["main", "EXIT_OK", "EXIT_ERRORS", "EXIT_USAGE"]

EXIT_OK = 0        # nothing wrong (warnings allowed)
EXIT_ERRORS = 1    # the scenes have errors, or a render failed
EXIT_USAGE = 2     # the command line itself is wrong (unknown option, missing path)


RENDER_COMMANDS = ("render", "status", "cancel", "cost")  # registered by compiler.render.commands


class Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width up front: finding it itself imports shutil (~2 ms),
    and argparse builds a formatter for every argument added, even when no help is printed."""

    def __init__(self, prog: str, **options) -> None:
        options.setdefault("width", terminal_width() - 2)
        super().__init__(prog, **options)


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else 80: what shutil.get_terminal_size() answers."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that command's sub-parser (start-up: check runs on every save)."""
    parser = argparse.ArgumentParser(
        prog="scenec", formatter_class=Formatter, description="Compile screenplay-style .scene files into Wan reference-to-video (wan2.7-r2v) requests.",
        epilog="exit codes: 0 clean, 1 errors found, 2 usage error.  Docs: docs/language.md, docs/diagnostics.md")
    parser.add_argument("--version", action="version", version=f"scenec {__version__}")
    # prog given: argparse would otherwise build a HelpFormatter (and import shutil) to work it out.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="scenec")
    if only in (None, "check"):
        add_check(commands)
    if only in (None, "compile"):
        add_compile(commands)
    if only is None or only in RENDER_COMMANDS:
        add_render_commands(commands)
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
    compile_.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the JSON here (atomically)")
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
    argv = sys.argv[1:] if argv is None else argv
    first = argv[0] if argv else None
    known = ("check", "compile", "lsp") + RENDER_COMMANDS
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


def collect(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to check, in a stable order, and the paths that do not exist."""
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.scene") if not any(part.startswith(".") for part in p.parts))
        elif path.exists():
            files.append(path)
        else:
            missing.append(str(path))
    return files, missing


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

    files, missing = collect(args.paths)
    if missing:
        print(f"scenec check: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    diagnostics = []
    for path in files:
        diagnostics += check_file(path, probe=not args.no_probe)
    print_diagnostics(diagnostics, args.format, [str(f) for f in files], sys.stdout)
    return EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK


def run_compile(args) -> int:
    from .api import compile_file

    if not args.file.is_file():
        print(f"scenec compile: no such file: {args.file}", file=sys.stderr)
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
    if args.output:
        from .fs import write_atomic

        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def explain(result) -> str:
    """The cast table (name, kind, media index, identifier, voice) and the prompt."""
    from .emit import cast_table

    rows = cast_table(result.scene)
    headers = ("NAME", "KIND", "INDEX", "IDENTIFIER", "SOURCE", "VOICE")
    table = [headers] + [(r["name"], r["kind"], str(r["index"]), r["identifier"], r["source"][:48], r["voice"] or "-")
                         for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    return "\n".join(lines + ["", "PROMPT", result.prompt, ""])
