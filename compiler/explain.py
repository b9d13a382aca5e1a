"""A rule's documentation as text: one section of docs/diagnostics.md, shared by `scenec explain` and the
doc generator."""

from __future__ import annotations

from .diagnostics import CODES, GROUPS, Code

TYPE_CHECKING = False  # typing costs start-up time; only a type checker needs it
if TYPE_CHECKING:
    from argparse import Namespace
    from typing import Any

__all__ = ["section", "find_code", "explain_codes", "group_of", "register", "run_explain"]


def section(code: Code) -> str:
    """The code's section of docs/diagnostics.md (Markdown, no trailing newline)."""
    can = "can be suppressed" if code.suppressible else "cannot be suppressed (an error)"
    return "\n".join([f"### `{code.slug}`", "",
                      f"*{code.severity}*, group `{code.group}`, {can}. {code.summary}", "",
                      code.explanation])


def find_code(name: str) -> Code | None:
    """The registered code named by its slug, in any case and with `_` for `-`; None if unknown."""
    return CODES.get(name.strip().lower().replace("_", "-"))


def explain_codes(slugs: list[str]) -> str:
    """The sections of the given codes, each once, in the registry's order, separated by a blank line."""
    wanted = set(slugs)
    return "\n\n".join(section(code) for code in CODES.values() if code.slug in wanted)


def group_of(name: str) -> str | None:
    """The group named (case-insensitive), else None."""
    lowered = name.strip().lower()
    return lowered if lowered in GROUPS else None


def register(commands: Any, formatter: Any) -> None:
    """`scenec explain CODE...`: argparse only."""
    explain = commands.add_parser("explain", help="print a diagnostic code's documentation (docs/diagnostics.md)",
                                  formatter_class=formatter,
                                  description="Print the documentation of diagnostic codes, or of every code "
                                              "of a group: the text of docs/diagnostics.md.")
    explain.add_argument("codes", nargs="+", metavar="CODE", help="a code (unused-member) or a group (style)")


def run_explain(args: Namespace) -> int:
    """0 and the sections asked for; 2 and a suggestion when a name is neither a code nor a group."""
    import sys

    from .diagnostics import Suggestions
    from .report import visible

    sections = []
    for name in args.codes:
        group = group_of(name)
        code = find_code(name)
        if code is not None:
            sections.append(section(code))
        elif group is not None:
            sections += [section(c) for c in CODES.values() if c.group == group]
        else:
            nearest = Suggestions([*CODES, *GROUPS])(name.strip().lower(), 1)
            hint = f"; did you mean {nearest[0]}?" if nearest else " (docs/diagnostics.md lists them)"
            print(f"scenec explain: {visible(name)} is not a diagnostic code or group{hint}", file=sys.stderr)
            return 2
    print("\n\n".join(dict.fromkeys(sections)))  # a code named twice, or by its group too, is printed once
    return 0
