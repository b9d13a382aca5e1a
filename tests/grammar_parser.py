"""The grammar's lark parser and the text strategy generated from it, built once per test session.

A build of lark's LALR parser costs ~0.7 s; the tests that compare with lark or generate text from the
grammar share this one instead of building their own.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy
    from lark import Lark

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = (ROOT / "grammar" / "scene.lark").read_text(encoding="utf-8")


@functools.cache
def lark_parser() -> Lark:
    """The parser compiler/lalr.py's tables come from (LALR(1), contextual lexer)."""
    from lark import Lark

    return Lark(GRAMMAR, parser="lalr", lexer="contextual")


@functools.cache
def grammar_text() -> SearchStrategy[str]:
    """Text generated from the grammar itself (hypothesis.extra.lark)."""
    from hypothesis.extra.lark import from_lark

    return from_lark(lark_parser(), start="start")
