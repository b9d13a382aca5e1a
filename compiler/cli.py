"""The command line: a thin adapter over compiler.api (check, compile), compiler.render.commands (render, cost,
status, cancel), compiler.writer_commands (fmt, preview) and compiler.lsp.command (lsp)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .console import (
    EXIT_BROKEN_PIPE,
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    add_model_option,
    collect,
    path_kind,
    print_diagnostics,
)
from .diagnostics import Diagnostic, make
from .report import json_safe, visible
from .source import describe_os_error

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .api import Compiled

Commands = argparse._SubParsersAction  # the subcommands' registry argparse hands to each module

__all__ = ["main", "EXIT_OK", "EXIT_ERRORS", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE"]


RENDER_COMMANDS = ("render", "status", "cancel", "cost")  # registered by compiler.render.commands
WRITER_COMMANDS = ("fmt", "preview")  # registered by compiler.writer_commands


class Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width up front: finding it itself imports shutil (~2 ms),
    and argparse builds a formatter for every argument added, even when no help is printed."""

    def __init__(self, prog: str, **options: Any) -> None:
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
        stdout = sys.__stdout__  # None when Python started without one
        try:
            width = os.get_terminal_size(stdout.fileno()).columns if stdout is not None else 0
        except (AttributeError, ValueError, OSError):
            width = 0
    return max(width, 20) if width > 0 else 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, just that command's sub-parser (start-up: check runs on every save)."""
    parser = argparse.ArgumentParser(
        prog="scenec", formatter_class=Formatter,
        description="Compile screenplay-style .scene files into DashScope reference-to-video requests "
                    "(wan2.7-r2v by default; MODEL or --model chooses another target, docs/targets.md).",
        epilog="exit codes: 0 clean, 1 errors found (or an output not written), 2 usage error, 130 interrupted, "
               "141 output closed early.  Docs: docs/language.md, docs/diagnostics.md")
    parser.add_argument("--version", action="version", version=f"scenec {__version__}")
    # prog given: argparse would otherwise build a HelpFormatter (and import shutil) to work it out.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="scenec")
    if only in (None, "check"):
        add_check(commands)
    if only in (None, "compile"):
        add_compile(commands)
    if only in (None, "explain"):
        from .explain import register as register_explain

        register_explain(commands, Formatter)
    if only is None or only in RENDER_COMMANDS:
        add_render_commands(commands)
    if only is None or only in WRITER_COMMANDS:
        from .writer_commands import register as register_writer_commands

        register_writer_commands(commands, Formatter)
    if only in (None, "lsp"):
        from .lsp.command import register as register_lsp  # argparse only: pygls loads when the server starts

        register_lsp(commands)
    return parser


def add_check(commands: Commands[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="report every mistake in .scene files (files or folders)",
                                formatter_class=Formatter,
                                description="Check .scene files against the language and the API's rules.")
    check.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="a .scene file or a folder to search")
    check.add_argument("--format", choices=("human", "json", "github", "sarif"), default="human",
                       help="human (default), json, github (workflow annotations)"
                            " or sarif (SARIF 2.1.0, code scanning)")
    check.add_argument("--no-probe", action="store_true", help="do not open local media files (faster)")
    add_model_option(check)
    add_lint_options(check)


def add_lint_options(check: argparse.ArgumentParser) -> None:
    """check's configuration, suppression, output and fix options (compiler/lint.py, docs/ci.md)."""
    check.add_argument("--select", action="append", metavar="CODES",
                       help="report only these codes or groups (comma-separated; over the configuration's select)")
    check.add_argument("--ignore", action="append", metavar="CODES",
                       help="do not report these warnings or groups (comma-separated; over the configuration's ignore)")
    check.add_argument("--warnings-as-errors", "--strict", action="store_true", dest="warnings_as_errors",
                       help="exit 1 when any warning is reported")
    check.add_argument("--show-settings", action="store_true",
                       help="print the merged configuration and where each value came from, and check nothing")
    check.add_argument("--statistics", action="store_true", help="count the diagnostics per code, most frequent first")
    check.add_argument("--explain-codes", action="store_true",
                       help="after the report, the documentation of each code reported")
    check.add_argument("--output-file", type=Path, metavar="FILE",
                       help="write the report to FILE (atomically) instead of standard output")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply the safe fixes in place and list what is left")
    fixing.add_argument("--diff", action="store_true", help="print the safe fixes as a unified diff; write nothing")


def add_compile(commands: Commands[argparse.ArgumentParser]) -> None:
    compile_ = commands.add_parser("compile", help="compile one .scene file into the request body (JSON)",
                                   formatter_class=Formatter,
                                   description="Compile a .scene file into the request body of its model (MODEL, "
                                               "--model, scenec.toml; default wan2.7-r2v).")
    compile_.add_argument("file", type=Path, metavar="FILE")
    compile_.add_argument("-o", "--output", type=Path, metavar="FILE",
                          help="write the JSON here: a file is replaced atomically, a symlink's target is written, "
                               "a device or named pipe (/dev/stdout, a FIFO) is written through, never replaced")
    compile_.add_argument("--explain", action="store_true", help="print the cast table and prompt beside the payload")
    compile_.add_argument("--format", choices=("human", "json", "github"), default="human",
                          help="how to print diagnostics (on standard error)")
    add_model_option(compile_)


def add_render_commands(commands: Commands[argparse.ArgumentParser]) -> None:
    from .render.commands import register  # argparse only: httpx and rich load when a command runs

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
        where = f"{error.filename}: " if error.filename else ""
        print(f"scenec: {visible(where + describe_os_error(error))}", file=sys.stderr)
        return EXIT_ERRORS


def _run(argv: list[str]) -> int:
    first = argv[0] if argv else None
    known = ("check", "compile", "lsp", "explain") + RENDER_COMMANDS + WRITER_COMMANDS
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
    if args.command == "explain":
        from .explain import run_explain

        return run_explain(args)
    if args.command == "compile":
        return run_compile(args)
    handler: Callable[[argparse.Namespace], int] = args.handler  # set by the module that registered the command
    return handler(args)


def run_check(args: argparse.Namespace) -> int:
    from . import lint
    from .api import check_file  # the stages: imported by the command that runs them

    options = lint.lint_options(args)
    if (problem := lint.usage_problem(options)) is not None:
        print(f"scenec check: {visible(problem)}", file=sys.stderr)
        return EXIT_USAGE
    refused: list[tuple[Path, Path]] = []
    files, missing = collect(args.paths, refused)
    if missing:
        print(f"scenec check: no such file or folder: {visible(', '.join(missing))}", file=sys.stderr)
        return EXIT_USAGE
    if args.show_settings:
        sys.stdout.write(lint.show_settings_text(args.paths, options))
        return EXIT_OK
    if args.fix or args.diff:
        from .fixes import run_fixes

        return EXIT_ERRORS if run_fixes(files, args, options) else EXIT_OK
    diagnostics = [not_followed(link, target) for link, target in refused]
    for path in files:
        diagnostics += check_file(path, probe=not args.no_probe, lint=options, model=args.model)
    # A cast file or scenec.toml shared by several scenes is reported once, not once per scene.
    diagnostics = list(dict.fromkeys(diagnostics))
    return EXIT_ERRORS if lint.finish_check(args, [str(f) for f in files], diagnostics) else EXIT_OK


def not_followed(link: Path, target: Path) -> Diagnostic:
    return make("path-outside-project", f"{link} is a symlink to {target}, outside the folder checked and its "
                "project: not followed", None, path=str(link))


def run_compile(args: argparse.Namespace) -> int:
    from .api import compile_file

    if path_kind(args.file) == "missing":
        print(f"scenec compile: no such file: {visible(str(args.file))}", file=sys.stderr)
        return EXIT_USAGE
    result = compile_file(args.file, model=args.model)
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
        print(f"scenec compile: cannot write {visible(str(args.output))}: {describe_os_error(error)}",
              file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK


def explain(result: Compiled) -> str:
    """The cast table (name, kind, media index, identifier, voice: the target's naming) and the prompt."""
    from .emit import cast_table

    # explained only once a payload is built
    assert result.scene is not None and result.prompt is not None
    assert result.target is not None and result.naming is not None
    naming = result.naming
    rows = cast_table(result.scene, naming.identifiers, naming.media_index, naming.voices)
    headers = ("NAME", "KIND", "INDEX", "IDENTIFIER", "SOURCE", "VOICE")
    table: list[tuple[str, ...]] = [headers]
    table += [tuple(visible(str(cell)) for cell in (r["name"], r["kind"], r["index"], r["identifier"],
                                                    str(r["source"])[:48], r["voice"] or "-")) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in table]
    limit = result.target.limits.prompt_limit(result.scene.settings.language)
    length = f"PROMPT ({result.target.limits.prompt_length(result.prompt)} of {limit} characters)"
    prompt = [visible(line) for line in result.prompt.split("\n")]
    return "\n".join(lines + ["", length, *prompt, ""])
