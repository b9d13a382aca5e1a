"""What every command shares, below all the command modules: exit codes, the files a command is given,
and diagnostics printed for people or tools.

`cli.py`, `render/commands.py` and `writer_commands.py` import this module and never each other's
internals, so no command module imports another to reach these.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from . import report
from .diagnostics import Diagnostic
from .project import find_project
from .source import clipped

# Spelled out rather than imported from typing: `scenec check` runs on every save and does not import
# typing (records.py); checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import TextIO

__all__ = ["add_model_option", "model_argument", "EXIT_OK", "EXIT_ERRORS", "EXIT_USAGE", "EXIT_INTERRUPTED",
           "EXIT_BROKEN_PIPE", "collect", "path_kind",
           "print_diagnostics", "format_diagnostics", "print_human"]

EXIT_OK = 0        # nothing wrong (warnings allowed)
EXIT_ERRORS = 1    # the scenes have errors, a render failed, or an output could not be written
EXIT_USAGE = 2     # the command line itself is wrong (unknown option, missing path)
EXIT_INTERRUPTED = 130   # Ctrl-C (128 + SIGINT, as a shell reports it)
EXIT_BROKEN_PIPE = 141   # standard output closed early, as by `| head` (128 + SIGPIPE)

TEXT_PATH = "<text>"  # the path of diagnostics about text that came from no file (standard input)


def collect(paths: Iterable[Path], refused: list[tuple[Path, Path]] | None = None,
            suffixes: tuple[str, ...] = (".scene",)) -> tuple[list[Path], list[str]]:
    """Files to check, in a stable order, and the paths that do not exist.

    A path that exists but cannot be looked at (a name too long, no permission) is kept: reading it
    gives the diagnostic.  In a folder, a .scene that is a symlink out of both the folder and its
    project is not followed: it goes to `refused` as (link, target), or is named on stderr when the
    caller gives no `refused` list.  Non-regular files found there
    (a FIFO named x.scene) are kept too, and reading refuses them.
    """
    files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        kind = path_kind(path)
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


def path_kind(path: Path) -> str:
    """'folder', 'missing', or 'other' (a file, or something whose reading will say what is wrong)."""
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
    try:
        real = found.resolve()
        if real.is_relative_to(folder.resolve()) or real.is_relative_to(find_project(found).root.resolve()):
            return None
        return real
    except (OSError, RuntimeError):
        return None  # unresolvable (a loop): reading it reports the error


def print_diagnostics(diagnostics: list[Diagnostic], fmt: str, files: list[str], stream: TextIO) -> None:
    """Diagnostics as `check --format` prints them: json, github annotations, or human lines and a summary."""
    stream.write(format_diagnostics(diagnostics, fmt, files))


def format_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str, files: list[str], *,
                       extra: dict[str, object] | None = None) -> str:
    """The one printer of diagnostics for people and tools (`scenec check`'s report is this text too, lint.py):
    the JSON document (with `extra` keys), one GitHub annotation a line, or human lines and a summary."""
    if fmt == "json":
        return report.as_json(files, list(diagnostics), extra) + "\n"
    if fmt == "github":
        return "".join(report.github(diagnostic) + "\n" for diagnostic in diagnostics)
    lines = "".join(line + "\n" for line in human_lines(diagnostics))
    return lines + report.summary(len(files), list(diagnostics)) + "\n"


def print_human(diagnostics: Iterable[Diagnostic], stream: TextIO, *, text_name: str | None = None) -> None:
    """Each diagnostic as `path:line:col: CODE message` with its source line and caret, printed as it comes.

    With `text_name`, diagnostics about text from no file (standard input) are named so and shown
    without a source line: there is no file to read it from.
    """
    for line in human_lines(diagnostics, text_name=text_name):
        print(line, file=stream)


def human_lines(diagnostics: Iterable[Diagnostic], *, text_name: str | None = None) -> Iterator[str]:
    """print_human's lines (each may hold the source line and caret), read source lines cached per file."""
    cache: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        if text_name is not None and diagnostic.path == TEXT_PATH:
            yield report.human(diagnostic._replace(path=text_name), None)
            continue
        line = report.read_line(diagnostic.path, diagnostic.span.line, cache) if diagnostic.span else None
        yield report.human(diagnostic, line)


# --- --model ---------------------------------------------------------------------------------------------


def add_model_option(command: argparse.ArgumentParser) -> None:
    """--model on check, compile, cost and render: the compile target's model, over the scene's MODEL and the
    configuration (docs/targets.md).  An unknown model is a usage error (exit 2) before any scene is read."""
    command.add_argument("--model", metavar="MODEL", type=model_argument,
                         help="compile for this model (over the scene's MODEL and scenec.toml; docs/targets.md)")


def model_argument(text: str) -> str:
    """A --model value as its target spells it (read in any case); else argparse's error with the choices and
    the nearest ones."""
    import argparse

    from .targets import all_models, canonical_model, nearest_models

    found = canonical_model(text)
    if found is not None:
        return found
    models = all_models()
    close = nearest_models(text)
    shown = report.visible(clipped(text, 60))
    hint = f"; did you mean {' or '.join(close[:2])}?" if close else ""
    raise argparse.ArgumentTypeError(f"no model {shown!r}: use one of {', '.join(models)}{hint}")
