"""The LALR(1) runtime for the tables lark builds from grammar/scene.lark (see tools/gen_parser.py).

Why not lark's own runtime at run time: importing it (or its standalone copy) costs ~25 ms before
anything is parsed, three times a bare interpreter's start-up, and `scenec check` runs on every
save.  This module does only what those tables need — a contextual lexer (one regex per parser
state, terminals in lark's order) and the shift/reduce loop with lark's tree shaping (tokens and
rules whose names start with "_" are dropped or inlined, aliases rename) — and a test checks that
it gives exactly lark's trees and errors.
"""

from __future__ import annotations

import re

from . import _scene_tables as T

# Spelled out rather than imported from typing, which `scenec check` does not otherwise import (records.py).
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["Token", "Tree", "UnexpectedToken", "UnexpectedCharacters", "parse"]


class Token(str):
    """A terminal as matched: its text (the str value), type and position, like lark's Token."""

    __slots__ = ("type", "start_pos", "end_pos", "line", "column", "end_line", "end_column")
    type: str
    start_pos: int
    end_pos: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int,
                end_pos: int, end_line: int, end_column: int) -> Token:
        token = super().__new__(cls, value)
        token.type, token.start_pos, token.line, token.column = type_, start_pos, line, column
        token.end_pos, token.end_line, token.end_column = end_pos, end_line, end_column
        return token

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r})"


class Tree:
    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list[object]) -> None:
        self.data, self.children = data, children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class UnexpectedToken(Exception):
    def __init__(self, token: Token, expected: set[str]) -> None:
        super().__init__(f"unexpected {token.type} {str(token)!r}")
        self.token, self.expected = token, expected


class UnexpectedCharacters(Exception):
    def __init__(self, pos_in_stream: int, line: int, column: int, allowed: set[str]) -> None:
        super().__init__(f"unexpected character at {line}:{column}")
        self.pos_in_stream, self.line, self.column, self.allowed = pos_in_stream, line, column, allowed


_IGNORE = frozenset(T.IGNORE)
_NEWLINE_TYPES = frozenset(T.NEWLINE_TYPES)
assert not _IGNORE & _NEWLINE_TYPES, "an ignored terminal that spans lines would break line counting"
_patterns: dict[str, re.Pattern[str]] = {}
_scanners: dict[int | str, _Scanner] = {}
COMBINE_AFTER = 64  # tokens: a set used this often gets one compiled alternation


class _Scanner:
    """Matches the first terminal of a set, in lark's order, at a position.

    Compiling an alternation per lexer state costs more than a short file takes to lex, so a set
    starts by trying its terminals one by one (each compiled once) and compiles the alternation
    only once it has been used often.  First-match semantics are the same either way.
    """

    __slots__ = ("names", "unless", "combined", "uses")

    def __init__(self, names: tuple[str, ...], unless: dict[str, dict[str, str]]) -> None:
        self.names, self.unless, self.uses = names, unless, 0
        self.combined: re.Pattern[str] | None = None

    def match(self, text: str, pos: int) -> tuple[str, str] | None:
        combined = self.combined
        if combined is not None:
            found = combined.match(text, pos)
            # every alternative is a named group, so the one that matched has a name
            return (found.lastgroup or "", found.group()) if found else None
        self.uses += 1
        if self.uses > COMBINE_AFTER:
            self.combined = re.compile("|".join(f"(?P<{n}>{T.TERMINALS[n][0]})" for n in self.names))
        char = text[pos]
        for name in self.names:
            first = T.TERMINALS[name][1]
            if first is not None and char not in first:
                continue  # cannot start here: neither compiled nor tried
            pattern = _patterns.get(name)
            if pattern is None:
                pattern = _patterns[name] = re.compile(T.TERMINALS[name][0])
            found = pattern.match(text, pos)
            if found:
                return name, found.group()
        return None


def _scanner(key: int | str) -> _Scanner:
    """The scanner of a lexer set: its index in T.LEXER_SETS, or "root" for the root lexer's terminals."""
    found = _scanners.get(key)
    if found is None:
        if isinstance(key, int):
            found = _Scanner(T.LEXER_SETS[key], T.UNLESS[key])
        else:
            found = _Scanner(T.ROOT_LEXER, T.ROOT_UNLESS)
        _scanners[key] = found
    return found


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line, self.line_start = text, 0, 1, 0

    def next(self, state: int) -> Token | None:
        """The next token acceptable in parser state `state` (ignored terminals skipped); None at the end."""
        text = self.text
        scanner = _scanner(T.STATE_LEXER[state])
        while self.pos < len(text):
            match = scanner.match(text, self.pos)
            if match is None:
                raise self._error(state)
            if match[0] in _IGNORE:
                self.pos += len(match[1])  # ignored terminals never hold a newline (checked at import)
                continue
            return self._token(match[0], match[1], scanner.unless)
        return None

    def _token(self, kind: str, value: str, unless: dict[str, dict[str, str]]) -> Token:
        if unless and kind in unless:
            kind = unless[kind].get(value, kind)
        start = self.pos
        line = self.line
        column = start - self.line_start + 1
        end = self.pos = start + len(value)
        if kind in _NEWLINE_TYPES:
            newlines = value.count("\n")
            if newlines:
                self.line += newlines
                self.line_start = start + value.rindex("\n") + 1
        return Token(kind, value, start, line, column, end, self.line, end - self.line_start + 1)

    def _error(self, state: int) -> Exception:
        """Like lark: a token the root lexer recognises is 'unexpected'; otherwise the character is."""
        allowed = set(T.LEXER_SETS[T.STATE_LEXER[state]]) - set(T.IGNORE)
        column = self.pos - self.line_start + 1
        failure = UnexpectedCharacters(self.pos, self.line, column, allowed)
        scanner = _scanner("root")
        while self.pos < len(self.text):
            match = scanner.match(self.text, self.pos)
            if match is None:
                return failure
            token = self._token(match[0], match[1], scanner.unless)
            if token.type not in T.IGNORE:
                return UnexpectedToken(token, allowed)
        return failure


def _terminals(state: int) -> set[str]:
    """What lark lists as expected in a parser state: its terminals (names in capitals)."""
    return {name for name in T.ACTIONS[state] if name.isupper()}


def _kept(children: list[object]) -> list[object]:
    """lark's tree shaping: drop tokens named _X, splice in subtrees of rules named _x.

    As lark does (ChildFilterLALR), an inlined subtree that comes first lends its own list, which is
    then extended in place: left-recursive repetition (`a*`, `_x: _x item`) appends one child per
    reduction instead of copying every earlier child again (the list belongs to a tree being dropped).
    """
    kept: list[object] | None = None
    for child in children:
        if type(child) is Tree:
            if child.data[0] == "_":
                if kept is None:
                    kept = child.children
                else:
                    kept.extend(child.children)
                continue
        elif type(child) is Token and child.type[0] == "_":
            continue
        if kept is None:
            kept = [child]
        else:
            kept.append(child)
    return [] if kept is None else kept


def parse(text: str, callbacks: Mapping[str, Callable[[list[Any]], object]] | None = None) -> Any:
    """Parse a whole text from the start rule; raises UnexpectedToken or UnexpectedCharacters.

    Without callbacks the result is a Tree shaped as lark shapes it.  With them, a rule whose name
    (or alias) has a callback is reduced to callback(children) instead of a Tree, bottom-up.  The result
    (and the children a callback is given) are typed Any: what they are is set by the caller's callbacks,
    rule by rule, which no signature here can follow.
    """
    callbacks = callbacks or {}
    actions, rules = T.ACTIONS, T.RULES
    lexer = _Lexer(text)
    states = [T.START_STATE]
    values: list[object] = []
    while True:
        token = lexer.next(states[-1])
        if token is None:
            token = Token("$END", "", lexer.pos, lexer.line, lexer.pos - lexer.line_start + 1,
                          lexer.pos, lexer.line, lexer.pos - lexer.line_start + 1)
        while True:
            action = actions[states[-1]].get(token.type)
            if action is None:
                raise UnexpectedToken(token, _terminals(states[-1]))
            if action[0] == 1:
                states.append(action[1])
                values.append(token)
                break
            origin, size, alias, filtered = rules[action[1]]
            children = values[len(values) - size:] if size else []
            if size:
                del states[-size:]
                del values[-size:]
            if filtered:
                children = _kept(children)
            name = alias or origin
            callback = callbacks.get(name)
            node = callback(children) if callback is not None else Tree(name, children)
            if origin == "start" and token.type == "$END" and len(states) == 1:
                return node
            states.append(actions[states[-1]][origin][1])
            values.append(node)
