"""The façade: every pipeline stage and the end-to-end calls, shared by the CLI, the renderer and the tests."""

from __future__ import annotations

from pathlib import Path

from . import ir
from .check import check
from .diagnostics import Diagnostic, has_errors, make, sort_key
from .parse import parse_bytes, parse_file, parse_text
from .resolve import holds_only_a_cast, resolve

TYPE_CHECKING = False  # spelled out: importing typing is a start-up cost `scenec check` avoids (records.py)

if TYPE_CHECKING:
    from collections.abc import Callable

    from . import nodes
    from .payload import Payload
    from .project import Project

    # Parses an imported cast file (the language server's reads its open documents first).
    Loader = Callable[[Path], tuple[nodes.SceneFile, list[Diagnostic]]]

__all__ = ["parse_text", "parse_bytes", "parse_file", "resolve", "check", "render_prompt", "emit",
           "check_file", "check_document", "Checked", "compile_file", "compile_text", "Compiled"]


# Files that were not parsed at all (or not to the end): nothing to resolve or check.
UNPARSEABLE = {"not-text", "file-too-large", "unreadable-file", "parse-stopped"}


def render_prompt(scene: ir.Scene) -> str:
    from .prompt import render_prompt as render

    return render(scene)


def emit(scene: ir.Scene, prompt: str) -> tuple[Payload | None, list[Diagnostic]]:
    from .emit import emit as emit_payload

    payload, diagnostics = emit_payload(scene, prompt)
    return payload, diagnostics


class Compiled:
    """Everything one compile produced; payload is None when there were errors."""

    def __init__(self, path: str, scene: ir.Scene | None, diagnostics: list[Diagnostic] | None = None,
                 prompt: str | None = None, payload: Payload | None = None) -> None:
        self.path, self.scene, self.prompt, self.payload = path, scene, prompt, payload
        self.diagnostics = diagnostics if diagnostics is not None else []

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _front(path: Path | None, text: str | None, *, data: bytes | None = None,
           loader: Loader | None = None) -> tuple[nodes.SceneFile, ir.Scene | None, list[Diagnostic]]:
    """parse and resolve: (syntax tree, scene or None when the file could not be parsed at all, diagnostics).

    Reads `text`, else `data`, the file's bytes as an editor holds them (unsaved), else the file at `path`;
    `loader` parses imported cast files."""
    if text is not None:
        scene_file, diagnostics = parse_text(text, path)
    elif data is not None:
        scene_file, diagnostics = parse_bytes(data, path)
    elif path is not None:
        scene_file, diagnostics = parse_file(path)
    else:
        raise ValueError("nothing to parse: give a path, data or text")
    if any(d.code in UNPARSEABLE for d in diagnostics):
        return scene_file, None, diagnostics
    scene, resolved = resolve(scene_file, loader=loader)
    return scene_file, scene, diagnostics + resolved + config_diagnostics(scene.project)


def config_diagnostics(project: Project | None) -> list[Diagnostic]:
    """scenec.toml's mistakes, at their line in it: reported with every scene of the project."""
    if project is None or project.config is None or not project.broken:
        return []
    from .source import Source

    source = Source(project.config_text, project.config)
    out: list[Diagnostic] = []
    for error in project.config_errors():
        span = None
        if error.line and error.line <= len(source.line_starts):
            offset = source.line_starts[error.line - 1] + max(error.column - 1, 0)
            span = source.span(offset, offset + 1 if error.column else offset)
        out.append(make("config-error", error.message, span, path=str(project.config)))
    return out


# What only a whole scene can get wrong; a .cast file checked on its own is spared them.
SCENE_ONLY = {"empty-prompt", "no-reference", "unused-member", "duration-out-of-range"}


class Checked:
    """What check_document found: the syntax tree, the resolved scene (None when unparseable), the diagnostics."""

    __slots__ = ("scene_file", "scene", "diagnostics")

    def __init__(self, scene_file: nodes.SceneFile, scene: ir.Scene | None, diagnostics: list[Diagnostic]) -> None:
        self.scene_file, self.scene, self.diagnostics = scene_file, scene, diagnostics


def check_file(path: Path, *, probe: bool = True) -> list[Diagnostic]:
    """parse, resolve, check: the linter's job (no request model, templates only near the prompt limit).

    A `.cast` file is checked as a cast: syntax, names, media, and that it holds nothing but a cast.
    """
    return check_document(path, probe=probe).diagnostics


def check_document(path: Path, data: bytes | None = None, *, probe: bool = True,
                   loader: Loader | None = None) -> Checked:
    """check_file's work, keeping the tree and scene (the language server's features read them).

    `data`: the file's bytes as an editor holds them (unsaved); `loader(path)` parses an imported cast file.
    """
    scene_file, scene, diagnostics = _front(path, None, data=data, loader=loader)
    if scene is not None:
        diagnostics += check(scene, probe=probe)
        if path.suffix == ".cast":
            diagnostics = [d for d in diagnostics if d.code not in SCENE_ONLY]
            if not holds_only_a_cast(scene_file):
                diagnostics.append(make("cast-file-content", "a cast file holds only CAST blocks (and comments), "
                                        "not settings or script", None, path=str(path)))
    return Checked(scene_file, scene, sorted(diagnostics, key=sort_key))


def compile_file(path: Path, *, probe: bool = True) -> Compiled:
    return _compile(path, None, probe=probe)


def compile_text(text: str, path: Path | None = None, *, probe: bool = True) -> Compiled:
    return _compile(path, text, probe=probe)


def _compile(path: Path | None, text: str | None, *, probe: bool) -> Compiled:
    name = str(path) if path else "<text>"
    _, scene, diagnostics = _front(path, text)
    if scene is None:
        return Compiled(name, None, sorted(diagnostics, key=sort_key))
    prompt = render_prompt(scene)
    diagnostics += check(scene, probe=probe, prompt_length=len(prompt))
    result = Compiled(name, scene, diagnostics, prompt)
    if not has_errors(diagnostics):
        result.payload, emitted = emit(scene, prompt)
        result.diagnostics += emitted
    result.diagnostics.sort(key=sort_key)
    return result
