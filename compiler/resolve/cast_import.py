"""CAST FROM: the cast files a scene imports, each read once, and the members they bring, in media order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import nodes as n
from ..diagnostics import Diagnostic, Suggestions
from ..parse import parse_file
from ..project import Project
from .reporter import Reporter
from .sources import media_source

__all__ = ["CastImports", "holds_only_a_cast", "Loader", "MAX_IMPORT_DEPTH"]

# A cast file that gave one of these has no members to offer (parse.parse_file's refusals).
NOT_PARSED = frozenset({"not-text", "file-too-large", "parse-stopped"})
MAX_IMPORT_DEPTH = 64  # cast files importing cast files; deeper chains are refused (and recursion stays bounded)

Loader = Callable[[Path], "tuple[n.SceneFile, list[Diagnostic]]"]  # reads and parses one cast file
# A file's cast entry: a member, or an import line with the key of the file it names (None: not imported).
Entry = n.Member | tuple[n.CastImport, str | None]
# A member laid out: the member, the path of its file, the scene's import line that brought it (or None).
Placed = tuple[n.Member, str, n.CastImport | None]


def holds_only_a_cast(scene_file: n.SceneFile) -> bool:
    """What a CAST FROM file may hold: CAST blocks and comments, no settings, frames or script."""
    return not (scene_file.settings or scene_file.paragraphs or scene_file.first_frames or scene_file.storyboards)


class CastImports:
    """The cast members a scene gets from its CAST blocks and CAST FROM lines, each file read once.

    Every imported file is loaded and walked once per scene (a diamond or a fan-out reads a shared file
    once, and its diagnostics are reported once); import lines that close a loop are dropped and reported
    as one error, and imports nest at most MAX_IMPORT_DEPTH files deep.  Then the members are laid out in
    declaration order: a whole-file import includes a file's members once, wherever else it is imported
    again; `CAST FROM f: A, B` picks A and B (in that order) from f's cast and its imports.  Work is linear
    in the files and members, except a named import, which searches that file's imports (and stops once
    every name is found).
    """

    def __init__(self, scene_file: n.SceneFile, project: Project | None, loader: Loader | None,
                 report: Reporter) -> None:
        self.project, self.report = project, report
        self.loader: Loader = loader or parse_file
        self.root_key = str(scene_file.source.path.absolute()) if scene_file.source.path else "<text>"
        # file key -> (its cast entries, the path its diagnostics name); an entry is a Member or
        # (import line, target key or None when it could not be imported).
        self.files: dict[str, tuple[list[Entry], str]] = {}
        self.unreadable: dict[str, str] = {}  # file key -> why it could not be read (read once, too)
        self.incomplete = False  # a cast file could not be read: the script's names cannot all be checked
        self.walking: dict[str, None] = {}  # the files being walked, in order (a dict: O(1) membership)
        self.loops: list[tuple[n.CastImport, str]] = []
        self.too_deep: list[tuple[n.CastImport, str]] = []
        self.inside: dict[Path, bool] = {}
        self.first_loop: list[str] = []
        self.suggestions: dict[str, Suggestions] = {}  # file key -> "did you mean" among the names it offers
        self.visit(self.root_key, scene_file.cast, scene_file.source.path, scene_file.source.name)
        self.report_once(self.loops, f"imports itself: {' -> '.join(self.first_loop)}", "close loops",
                         "remove the CAST FROM lines that lead back to a file")
        self.report_once(self.too_deep, f"is nested more than {MAX_IMPORT_DEPTH} cast files deep", "are as deep",
                         "import the files from fewer levels")

    def report_once(self, lines: list[tuple[n.CastImport, str]], what: str, others: str, hint: str) -> None:
        """Import lines dropped for one reason are one error, at the first of them, with the count of the rest
        (a mesh of cast files importing each other would otherwise give one error per import line)."""
        if not lines:
            return
        item, path = lines[0]
        more = len(lines) - 1
        self.report("cast-import-failed", f"{item.path.text} {what}"
                    + (f" (and {more} more CAST FROM line{'s' if more > 1 else ''} {others})" if more else ""),
                    item.path.span, path=path, hint=hint)

    # --- reading: each file once ---------------------------------------------------------
    def visit(self, key: str, items: tuple[n.Member | n.CastImport, ...], origin: Path | None, path: str) -> None:
        entries: list[Entry] = []
        self.files[key] = (entries, path)
        self.walking[key] = None
        for item in items:
            entries.append(item if isinstance(item, n.Member) else (item, self.follow(item, origin, path)))
        del self.walking[key]

    def follow(self, item: n.CastImport, origin: Path | None, path: str) -> str | None:
        """The key of the file an import line names, read and walked if new; None when it cannot be imported."""
        target = self.target(item, origin, path)
        if target is None:
            return None
        key = str(target.absolute())
        if key in self.walking:
            if not self.loops:
                keys = list(self.walking)
                self.first_loop = [self.files[k][1] for k in keys[keys.index(key):]] + [self.files[key][1]]
            self.loops.append((item, path))
            return None
        if key in self.files:
            return key
        if len(self.walking) >= MAX_IMPORT_DEPTH:
            self.too_deep.append((item, path))
            return None
        reason = self.unreadable.get(key)
        if reason is None:
            cast_file, diagnostics = self.loader(target)
            unreadable = [d for d in diagnostics if d.code == "unreadable-file"]
            unparsed = [d for d in diagnostics if d.code in NOT_PARSED]
            if not unreadable and not unparsed:
                return self.walk_new(key, item, target, path, cast_file, diagnostics)
            for diagnostic in unparsed:
                self.report.as_is(diagnostic)  # the cast file's own error says what is wrong in it
            reason = self.unreadable[key] = (unreadable[0].message.rsplit(": ", 1)[-1] if unreadable
                                             else "it could not be parsed")
        self.incomplete = True
        self.report("cast-import-failed", f"cannot read cast file {item.path.text}: {reason}; names from it are "
                    "not checked", item.path.span, path=path)
        return None

    def walk_new(self, key: str, item: n.CastImport, target: Path, path: str, cast_file: n.SceneFile,
                 diagnostics: list[Diagnostic]) -> str:
        for diagnostic in diagnostics:
            self.report.as_is(diagnostic)
        if not holds_only_a_cast(cast_file):
            self.report("cast-file-content", f"{item.path.text} holds more than a cast (settings or script)",
                        item.path.span, path=path)
        self.visit(key, cast_file.cast, target, cast_file.source.name)
        return key

    def target(self, item: n.CastImport, origin: Path | None, path: str) -> Path | None:
        source = media_source(item.path, origin, path)
        text, target = source.text, source.local_path
        if source.scheme != "local" or target is None or not text:
            self.report("cast-import-failed", "CAST FROM takes a local path", item.path.span, path=path)
            return None
        inside = self.inside.get(target)
        if inside is None:  # many files naming the same file resolve its path once
            inside = self.inside[target] = self.project is None or self.project.contains(target)
        if not inside and self.project is not None:
            self.report("path-outside-project", f"{text} is outside the project folder {self.project.root}",
                        item.path.span, path=path)
            return None
        return target

    # --- laying out the members ----------------------------------------------------------
    def members(self) -> list[Placed]:
        """(member, path of its file, the scene's import line that brought it or None), in media order."""
        out: list[Placed] = []
        placed: set[int] = set()
        entries, path = self.files[self.root_key]
        for entry in entries:
            if isinstance(entry, n.Member):
                self.place(entry, path, None, out, placed)
                continue
            item, key = entry
            if key is None:
                continue
            if item.names:
                self.pick(item, key, path, out, placed)
            else:
                self.whole(key, item, out, placed, set())
        return out

    @staticmethod
    def place(member: n.Member, path: str, via: n.CastImport | None, out: list[Placed], placed: set[int]) -> None:
        if id(member) not in placed:  # the same declaration reached twice (a diamond) counts once
            placed.add(id(member))
            out.append((member, path, via))

    def whole(self, key: str, via: n.CastImport, out: list[Placed], placed: set[int], done: set[str]) -> None:
        if key in done:
            return
        done.add(key)
        entries, path = self.files[key]
        for entry in entries:
            if isinstance(entry, n.Member):
                self.place(entry, path, via, out, placed)
            elif entry[1] is not None:
                if entry[0].names:
                    self.pick(entry[0], entry[1], path, out, placed, via=via)
                else:
                    self.whole(entry[1], via, out, placed, done)

    def pick(self, item: n.CastImport, key: str, path: str, out: list[Placed], placed: set[int],
             via: n.CastImport | None = None) -> None:
        """The members `CAST FROM f: A, B` names, found in f's cast and its imports; unknown names reported."""
        wanted = {word.text for word in item.names}
        found: dict[str, tuple[n.Member, str]] = {}
        self.search(key, wanted, found, set())
        for word in item.names:
            if word.text in found:
                member, member_path = found[word.text]
                self.place(member, member_path, via or item, out, placed)
                continue
            suggest = self.suggestions.get(key)
            if suggest is None:  # one bounded, cached search per cast file, however many names miss
                suggest = self.suggestions[key] = Suggestions(self.declared_names(key))
            close = suggest(word.text)
            self.report("unknown-import-name", f"{word.text} is not in {item.path.text}", word.span, path=path,
                        hint=f"did you mean {close[0]}?" if close else None)

    def search(self, key: str, wanted: set[str], found: dict[str, tuple[n.Member, str]],
               seen: set[tuple[str, frozenset[str]]]) -> None:
        """Fill `found` with the wanted names declared in a file's cast or reached by its imports."""
        mark = (key, frozenset(wanted))
        if mark in seen or wanted <= found.keys():
            return
        seen.add(mark)
        for entry in self.files[key][0]:
            if isinstance(entry, n.Member):
                if entry.name.text in wanted and entry.name.text not in found:
                    found[entry.name.text] = (entry, self.files[key][1])
            elif entry[1] is not None:
                # A named import passes on only the names it lists.
                names = wanted & {w.text for w in entry[0].names} if entry[0].names else wanted
                if names:
                    self.search(entry[1], names, found, seen)

    def declared_names(self, key: str) -> list[str]:
        """Every name a file's cast offers (for "did you mean")."""
        names: list[str] = []
        stack, seen = [key], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for entry in self.files[current][0]:
                if isinstance(entry, n.Member):
                    names.append(entry.name.text)
                elif entry[0].names:
                    names += [word.text for word in entry[0].names]
                elif entry[1] is not None:
                    stack.append(entry[1])
        return names

