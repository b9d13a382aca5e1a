"""The writer's subcommands, fmt and preview: argparse wiring and thin handlers over compiler.fmt and
compiler.preview."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .console import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, add_model_option, collect, path_kind, print_human
from .report import visible
from .source import InputRefused, read_input

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .diagnostics import Diagnostic

__all__ = ["register", "COMMANDS"]

COMMANDS = ("fmt", "preview")
SUFFIXES = (".scene", ".cast")


def port_number(value: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {value!r}")
    return int(value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
             formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter) -> None:
    """Add fmt and preview; each sets `handler`, and nothing heavy is imported until one runs."""
    from .render.commands import REGION_CHOICES
    fmt = subparsers.add_parser(
        "fmt", help="rewrite .scene files in the canonical layout", formatter_class=formatter_class,
        description="Canonical layout: settings in order, aligned cast, one blank line between paragraphs. "
                    "Every comment and every word of action and dialogue is kept; files with syntax errors "
                    "are left as they are and their errors printed.")
    fmt.add_argument("paths", nargs="+", metavar="PATH",
                     help="a .scene or .cast file, a folder, or - for standard input")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 and name the files that would change")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print a unified diff of the changes")
    fmt.set_defaults(handler=run_fmt)
    preview = subparsers.add_parser(
        "preview", help="a self-contained HTML storyboard of a scene", formatter_class=formatter_class,
        description="Write one HTML page (no network needed): cast cards, shots with their compiled prompt, "
                    "diagnostics, a timeline with the estimated speech, and the bill.")
    preview.add_argument("file", type=Path, metavar="FILE")
    preview.add_argument("-o", "--output", type=Path, metavar="FILE.html",
                         help="where to write (default FILE.html beside it)")
    preview.add_argument("--watch", action="store_true", help="serve the page on loopback and reload it on every save")
    preview.add_argument("--port", type=port_number, default=0, help="the port for --watch (default: any free one)")
    preview.add_argument("--region", choices=REGION_CHOICES,
                         help="the prices the bill uses (default: $SCENEC_REGION, else the project's configured "
                              "region, else beijing)")
    add_model_option(preview)
    preview.set_defaults(handler=run_preview)


# --- fmt -------------------------------------------------------------------------------------

def run_fmt(args: argparse.Namespace) -> int:
    if "-" in args.paths:
        if len(args.paths) > 1:
            print("scenec fmt: - (standard input) cannot be mixed with files", file=sys.stderr)
            return EXIT_USAGE
        return _fmt_stdin(args)
    refused: list[tuple[Path, Path]] = []
    files, missing = collect([Path(name) for name in args.paths], refused, SUFFIXES)
    if missing:
        print(f"scenec fmt: no such file or folder: {visible(', '.join(missing))}", file=sys.stderr)
        return EXIT_USAGE
    for link, target in refused:  # a scene from elsewhere is not ours to rewrite, as check does not read it
        print(visible(f"scenec fmt: not following {link}: a symlink to {target}, outside the folder and its "
                      "project"), file=sys.stderr)
    status = EXIT_ERRORS if refused else EXIT_OK
    for path in files:
        outcome, diagnostics = _fmt_file(path, check=args.check, diff=args.diff)
        print_human(diagnostics, sys.stderr, text_name=str(path))
        status = max(status, outcome)
    return status


def _fmt_file(path: Path, *, check: bool, diff: bool) -> tuple[int, list[Diagnostic]]:
    from .fmt import format_text
    from .fs import write_atomic
    from .parse import MAX_FILE_BYTES

    try:  # the parser's guarded reader: a FIFO, a device or a huge file is refused, never read
        text = read_input(path, MAX_FILE_BYTES).decode("utf-8")
    except InputRefused as refused:
        print(f"scenec fmt: cannot read {path}: {refused.reason}", file=sys.stderr)
        return EXIT_ERRORS, []
    except UnicodeDecodeError as error:
        print(f"scenec fmt: cannot read {path}: not UTF-8 text ({error.reason} at byte {error.start})",
              file=sys.stderr)
        return EXIT_ERRORS, []
    result = format_text(text, path)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors or result.note:
        if result.note:
            print(f"scenec fmt: {path}: {result.note}", file=sys.stderr)
        return EXIT_ERRORS, errors
    if not result.changed:
        return EXIT_OK, []
    if diff:
        sys.stdout.write(unified_diff(text, result.text, str(path)))
    if check:
        print(f"would reformat {path}", file=sys.stderr)
    if check or diff:
        return EXIT_ERRORS if check else EXIT_OK, []
    write_atomic(path, result.text)
    print(f"reformatted {path}", file=sys.stderr)
    return EXIT_OK, []


def _fmt_stdin(args: argparse.Namespace) -> int:
    from .fmt import format_text
    from .parse import MAX_FILE_BYTES

    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    try:
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"over the {MAX_FILE_BYTES}-byte limit")
        text = data.decode("utf-8")
    except (UnicodeDecodeError, ValueError) as error:
        why = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
        print(f"scenec fmt: cannot read standard input: {why}", file=sys.stderr)
        return EXIT_ERRORS
    result = format_text(text)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        print_human(errors, sys.stderr, text_name="<stdin>")
    if args.diff:
        sys.stdout.write(unified_diff(text, result.text, "<stdin>"))
    elif not args.check:
        sys.stdout.write(result.text)
    if errors or result.note:
        return EXIT_ERRORS
    return EXIT_ERRORS if args.check and result.changed else EXIT_OK


def unified_diff(before: str, after: str, name: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"{name} (before)", tofile=f"{name} (formatted)"))


# --- preview ---------------------------------------------------------------------------------

def _preview_region(args: argparse.Namespace) -> str:
    """--region, else SCENEC_REGION, else the scene's project's configured region, else beijing (config.py)."""
    import os

    from .config import chosen_region
    from .project import find_project
    from .regions import region_name

    region, _ = chosen_region(args.region, os.environ, [find_project(args.file)])
    return region_name(region)


def run_preview(args: argparse.Namespace) -> int:
    if path_kind(args.file) == "missing":  # anything else (a FIFO, a folder) gets its diagnostic on the page
        print(f"scenec preview: no such file: {visible(str(args.file))}", file=sys.stderr)
        return EXIT_USAGE
    output = args.output or args.file.with_suffix(".html")
    args.region = _preview_region(args)
    if args.watch:
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            print("scenec preview --watch needs watchfiles: pip install 'scenec[watch]'", file=sys.stderr)
            return EXIT_USAGE
        from .preview_server import serve

        return serve(args.file, region=args.region, port=args.port, model=args.model)
    from .fs import write_atomic
    from .preview import build_page

    page = build_page(args.file, region=args.region, output=output, model=args.model)
    write_atomic(output, page.html)
    print(f"wrote {output} ({page.errors} error{'s' if page.errors != 1 else ''}, "
          f"{page.warnings} warning{'s' if page.warnings != 1 else ''})", file=sys.stderr)
    return EXIT_ERRORS if page.errors else EXIT_OK
