"""The end of `scenec check`: the output in its format (human, json, github, sarif), --statistics,
--explain-codes, --output-file, --show-settings, and whether the run failed (errors, or warnings under
warnings-as-errors).  cli.py parses the arguments and collects the diagnostics; this module decides
nothing about a scene."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .diagnostics import ERROR, WARNING, Diagnostic

TYPE_CHECKING = False  # typing costs ~2 ms of start-up; only a type checker needs these names
if TYPE_CHECKING:
    from argparse import Namespace
    from typing import TextIO

    from .config import LintOptions, LintSettings

__all__ = ["lint_options", "finish_check", "statistics", "render_output", "show_settings_text", "failed",
           "usage_problem"]


def lint_options(args: Namespace) -> LintOptions | None:
    """The command line's select/ignore/warnings-as-errors (None where not given); None when none is given,
    so a plain `scenec check` does not load compiler/config.py (start-up)."""
    strict = True if getattr(args, "warnings_as_errors", False) else None
    select, ignore = _split(getattr(args, "select", None)), _split(getattr(args, "ignore", None))
    if select is None and ignore is None and strict is None:
        return None
    from .config import LintOptions

    return LintOptions(select, ignore, strict)


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    """`--select a,b --select c` as ("a", "b", "c"); None when the option was not given."""
    if values is None:
        return None
    return tuple(name.strip().lower() for value in values for name in value.split(",") if name.strip())


def usage_problem(options: LintOptions | None) -> str | None:
    """A sentence naming the unknown codes given on the command line, else None (then the run goes on)."""
    if options is None:
        return None
    from .config import unknown_names

    unknown = unknown_names([*(options.select or ()), *(options.ignore or ())])
    if not unknown:
        return None
    return f"unknown code or group: {', '.join(unknown)} (see scenec explain, docs/diagnostics.md)"


def statistics(diagnostics: Sequence[Diagnostic]) -> list[tuple[str, str, int]]:
    """(code, severity, count) for every code reported, the most frequent first, then by code."""
    counts = Counter((d.code, d.severity) for d in diagnostics)
    return sorted(((code, severity, n) for (code, severity), n in counts.items()), key=lambda row: (-row[2], row[0]))


def statistics_text(diagnostics: Sequence[Diagnostic]) -> str:
    rows = statistics(diagnostics)
    width = max((len(str(n)) for _, _, n in rows), default=1)
    return "\n".join(f"{n:>{width}}  {code} ({severity})" for code, severity, n in rows)


def render_output(fmt: str, files: list[str], diagnostics: Sequence[Diagnostic], *,
                  with_statistics: bool = False) -> tuple[str, str]:
    """(the report in its format, what goes to standard error beside it).  Statistics replace the listing in
    human output (as ruff's do), join the JSON as "statistics", and go to standard error for github and sarif."""
    from . import report
    from .console import format_diagnostics

    aside = statistics_text(diagnostics) if with_statistics and fmt in ("github", "sarif") else ""
    if fmt == "sarif":
        import json

        from .sarif import sarif_log

        return report.json_safe(json.dumps(sarif_log(diagnostics), ensure_ascii=False, indent=2)) + "\n", aside
    if fmt == "json" and with_statistics:
        counts = [{"code": c, "severity": s, "count": n} for c, s, n in statistics(diagnostics)]
        return format_diagnostics(diagnostics, fmt, files, extra={"statistics": counts}), aside
    if with_statistics and fmt != "github":
        return (statistics_text(diagnostics) + "\n" if diagnostics else "") + \
            report.summary(len(files), list(diagnostics)) + "\n", aside
    return format_diagnostics(diagnostics, fmt, files), aside


def failed(diagnostics: Sequence[Diagnostic], options: LintOptions | None) -> bool:
    """True when an error was reported, or a warning in a project whose settings make warnings errors."""
    if any(d.severity == ERROR for d in diagnostics):
        return True
    warned = {d.path for d in diagnostics if d.severity == WARNING}
    if not warned:
        return False
    if options is not None and options.warnings_as_errors is not None:
        return options.warnings_as_errors
    return any(_settings_for(path, options).warnings_as_errors for path in warned)


def _settings_for(path: str | None, options: LintOptions | None) -> LintSettings:
    from .config import settings_of
    from .project import find_project

    return settings_of(find_project(Path(path)) if path else None, options)


def finish_check(args: Namespace, files: list[str], diagnostics: list[Diagnostic], stdout: TextIO | None = None,
                 stderr: TextIO | None = None) -> bool:
    """Print or write the report; True when the run failed (errors, or warnings made errors, or the output
    file could not be written)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    options = lint_options(args)
    text, aside = render_output(args.format, files, diagnostics, with_statistics=getattr(args, "statistics", False))
    explained = _explained(diagnostics) if getattr(args, "explain_codes", False) else ""
    if explained and args.format == "human":
        text, explained = text + "\n" + explained + "\n", ""
    output = getattr(args, "output_file", None)
    if output is not None and not _write(Path(output), text, stderr):
        return True
    if output is None:
        stdout.write(text)
    for extra in (aside, explained):
        if extra:
            stderr.write(extra + "\n")
    return failed(diagnostics, options)


def _explained(diagnostics: Sequence[Diagnostic]) -> str:
    from .explain import explain_codes

    return explain_codes([d.code for d in diagnostics])


def _write(path: Path, text: str, stderr: TextIO) -> bool:
    from .fs import write_atomic
    from .report import visible
    from .source import describe_os_error

    try:
        write_atomic(path, text)
    except OSError as error:
        stderr.write(f"scenec check: cannot write {visible(str(path))}: {describe_os_error(error)}\n")
        return False
    return True


def show_settings_text(paths: list[Path], options: LintOptions | None) -> str:
    """The merged settings of each project the files belong to, once per project."""
    from .config import settings_of, show_settings
    from .project import find_project

    shown: dict[str, str] = {}
    for path in paths:
        project = find_project(path if path.is_file() else path / "x.scene")
        key = str(project.root)
        if key not in shown:
            shown[key] = show_settings(project, settings_of(project, options))
    return "\n\n".join(shown.values()) + "\n"
