"""Binding names: mentions in the script ('MAYA', '@小李') become references to cast members; near misses,
names in another case and unknown speakers or subjects are reported; members never named, at the end."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from .. import ir
from .. import nodes as n
from ..diagnostics import Suggestions
from ..source import Source
from .literals import report_literal_identifiers
from .reporter import Reporter

__all__ = ["NameBinder", "bare_name", "written_name", "is_caps_name", "COMMON_WORDS"]

# Words a cast name should not be: in capitals they are ordinary words ("It MAY rain"), and a single letter
# ("A", "I") is one too.  Names in this list are also left out of the other-case check.
COMMON_WORDS = frozenset({
    "AN", "THE", "AND", "OR", "BUT", "IF", "SO", "AS", "AT", "BY", "IN", "ON", "OF", "TO", "UP",
    "NO", "NOT", "YES", "OK", "ALL", "ANY", "ONE",
    "ME", "MY", "WE", "US", "YOU", "HE", "SHE", "IT", "ITS", "HIS", "HER", "THEY", "THEM",
    "AM", "IS", "ARE", "WAS", "BE", "DO", "GO", "CAN", "MAY", "MIGHT", "MUST", "WILL", "SHALL", "SHOULD", "WOULD",
    "NOW", "THEN", "HERE", "THERE", "WHO", "WHAT", "WHY", "HOW",
})
CAPS_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class NameBinder:
    """The cast's names, once numbered, and what the script does with them.

    `names` is final when the binder is made, so "did you mean" and the other-case pattern are built
    once, on first use; `used` collects the names the script binds, for the unused-member report.
    """

    def __init__(self, names: Mapping[str, ir.CastMember], source: Source, report: Reporter, *,
                 unchecked: bool) -> None:
        self.names = names
        self.source = source
        self.report = report
        # A CAST FROM file could not be read: a name not in the cast may be in it, so none is reported.
        self.unchecked = unchecked
        self.used: set[str] = set()
        self.longest_name = 0  # of the cast, for '@' mentions
        self.name_suggestions: Suggestions | None = None
        self.folded: dict[str, str] | None = None  # casefolded cast name -> name, for other_case
        self.roles: dict[str, str] = {}
        self.case_pattern: re.Pattern[str] | None = None

    # --- prose: action lines, headings, parentheticals ------------------------------------
    def pieces(self, segments: tuple[n.Segment, ...]) -> tuple[ir.Piece, ...]:
        """Segments as words and references; every mention bound or reported."""
        names = self.names
        out: list[ir.Piece] = []
        for segment in segments:
            if isinstance(segment, n.Mention) and segment.name.startswith("@"):
                out.extend(self.marked(segment))
                continue
            if isinstance(segment, n.Mention) and segment.name in names:
                self.used.add(segment.name)
                out.append(ir.Ref(segment.name, segment.span))
                continue
            if isinstance(segment, n.Mention):
                self.near_miss(segment)
            else:
                report_literal_identifiers(segment, self.source, self.report)
                self.other_case(segment)
            text = segment.name if isinstance(segment, n.Mention) else segment.text
            if out and isinstance(out[-1], ir.Words):
                out[-1] = ir.Words(out[-1].text + text)
            else:
                out.append(ir.Words(text))
        return tuple(out)

    def marked(self, mention: n.Mention) -> list[ir.Piece]:
        """'@小李走进' -> the reference 小李, then the words '走进': the longest declared name the word starts with."""
        names = self.names
        word = mention.name[1:]
        if not self.longest_name:
            self.longest_name = max(map(len, names), default=0)
        # Longest prefix first, looked up by hash: the cost is the word's length, not the cast's size.
        found = next((word[:k] for k in range(min(len(word), self.longest_name), 0, -1)
                      if word[:k] in names and _ends_name(word, k)), None)
        if found is None:
            if self.unchecked:  # a CAST FROM file could not be read: the name may be in it
                return [ir.Words(mention.name)]
            close = self.suggest(word)
            self.report("unknown-name", f"{mention.name} is not in the cast", mention.span,
                        hint=f"did you mean @{close[0]}?" if close else "declare it under CAST, e.g. @名字: image path")
            return [ir.Words(mention.name)]
        self.used.add(found)
        start = mention.span.start
        out: list[ir.Piece] = [ir.Ref(found, self.source.span(start, start + 1 + len(found)))]
        if len(word) > len(found):
            out.append(ir.Words(word[len(found):]))
        return out

    def other_case(self, text: n.Text) -> None:
        """'Maya' or 'maya' for MAYA, 'José' without its '@': plain text the writer probably meant as the name."""
        pattern = self.other_case_pattern()
        if pattern is None:
            return
        assert self.folded is not None
        for match in pattern.finditer(text.text):
            name = self.folded.get(match.group().casefold())
            if name is None:
                continue  # a case match that folds differently ("İ" for "I"): not worth a guess
            if match.group().islower() and self.roles.get(name) in ("object", "background"):
                continue  # "the tray" is the common noun
            start = text.span.start + match.start()
            marked = written_name(name)
            self.report("name-not-as-declared", f"{match.group()!r} is not written as the cast name {marked}, "
                        f"so it stays plain text", self.source.span(start, start + len(match.group())),
                        hint=f"write {marked} to name the reference")

    def other_case_pattern(self) -> re.Pattern[str] | None:
        """One pattern for every cast name in any case, built on first use."""
        if self.folded is None:
            self.folded = {name.casefold(): name for name in self.names
                           if len(name) > 1 and name not in COMMON_WORDS}
            self.roles = {name: member.role for name, member in self.names.items()}
            words = sorted(self.folded, key=len, reverse=True)
            self.case_pattern = _names_pattern(words) if words else None
        return self.case_pattern

    def near_miss(self, mention: n.Mention) -> None:
        if len(mention.name) < 3 or self.unchecked:
            return
        close = self.suggest(mention.name)
        if close:
            self.report("possible-misspelt-name", f"{mention.name} is not in the cast, so it stays plain text",
                        mention.span, hint=f"did you mean {written_name(close[0])}?")

    def suggest(self, word: str) -> list[str]:
        """'did you mean' among the cast names: one bounded, cached Suggestions per scene (names are fixed
        once the cast is resolved), so a script of many unknown capitalised words stays linear."""
        if self.name_suggestions is None:
            self.name_suggestions = Suggestions(self.names)
        return self.name_suggestions(word)

    # --- framing subjects and speakers ----------------------------------------------------
    def subject(self, word: n.Word) -> ir.Ref | None:
        """'ON LEO': the reference, or None after saying the name is not in the cast."""
        name = bare_name(word.text)
        if name in self.names:
            self.used.add(name)
            return ir.Ref(name, word.span)
        if self.unchecked:
            return None
        close = self.suggest(name)
        self.report("unknown-name", f"{word.text} is not in the cast", word.span,
                    hint=f"did you mean {written_name(close[0])}?" if close else "declare it under CAST")
        return None

    def speaker(self, cue: n.Word) -> str:
        """The name a dialogue cue gives, bound when it is in the cast and reported when it is not."""
        speaker = bare_name(cue.text)
        if speaker in self.names:
            self.used.add(speaker)
        elif not self.unchecked:
            close = self.suggest(speaker)
            self.report("unknown-speaker", f"{speaker} speaks but is not in the cast", cue.span,
                        hint=f"did you mean {written_name(close[0])}?" if close else "declare the speaker under CAST")
        return speaker

    # --- at the end -------------------------------------------------------------------------
    def report_unused(self, members: tuple[ir.CastMember, ...], imported_by: Mapping[str, n.CastImport]) -> None:
        """Unused members, each where the scene can fix it: its own declaration, or the CAST FROM line that
        brought it in (a shared cast file is not wrong because one scene uses part of it)."""
        for member in members:
            if member.name in self.used:
                continue
            via = imported_by.get(member.name)
            if via is None:
                self.report("unused-member", f"{member.name} is in the cast but the script never names it",
                            member.span, path=member.path,
                            hint=f"name {written_name(member.name)} in an action line, a framing line or as a speaker")
            else:
                self.report("unused-member", f"{member.name}, imported from {via.path.text}, is never named in "
                            "the script", via.span, hint=f"name {member.name} in the script, or import only the "
                            f"members it uses: CAST FROM {via.path.text}: NAME, NAME")


def written_name(name: str) -> str:
    """A cast name as the writer types it in the script: 'MAYA', or '@小李' for a name that needs its marker."""
    return name if is_caps_name(name) else "@" + name


def bare_name(text: str) -> str:
    """A cast name as declared or used, without its '@' marker: '@小李' and '小李' are the same name."""
    return text[1:] if text.startswith("@") else text


def is_caps_name(name: str) -> bool:
    return bool(CAPS_NAME.fullmatch(name))


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _ends_name(word: str, length: int) -> bool:
    """Whether a marked name may end after `length` characters of word: at a non-letter, or where Chinese
    or Japanese text (written without spaces) runs on, so '@小李走进' is 小李 but '@Joséphine' is not José."""
    if length >= len(word):
        return True
    after = word[length]
    return not (after.isalnum() or after == "_") or _wide(after) or _wide(word[length - 1])


def _names_pattern(words: list[str]) -> re.Pattern[str]:
    """The names, longest first, each as a whole word in any case; a name in a script written without spaces
    (it starts with a wide character) needs no word boundary.

    The boundaries are tested once per position for each group, not once per name: with a lookbehind in
    every alternative, 2,000 names made the search 2,000 tests at every character of the script.  The
    groups keep the names' order, and no character matches a narrow and a wide one in any case, so the
    first name to match at a position is the same one as with a boundary per name.
    """
    narrow = [re.escape(word) for word in words if not _wide(word[0])]
    wide = [re.escape(word) for word in words if _wide(word[0])]
    groups = []
    if narrow:
        groups.append(f"(?<![\\w@])(?:{'|'.join(narrow)})(?!\\w)")
    if wide:
        groups.append(f"(?<!@)(?:{'|'.join(wide)})")
    return re.compile("|".join(groups), re.IGNORECASE)
