"""The façade: every pipeline stage and the end-to-end calls, shared by the CLI, the renderer and the tests.

The pipeline runs through the compile target: resolve (target-free) → the model chosen (--model, else the
scene's MODEL, else the configuration's, else the default: project.PRECEDENCE) → its target settles the
settings → check against the target → prompt with the target's naming → the target's body, validated by its
request model."""

from __future__ import annotations

from pathlib import Path

from . import ir
from .check import check
from .diagnostics import Diagnostic, has_errors, make, sort_key
from .parse import parse_bytes, parse_file, parse_text
from .resolve import holds_only_a_cast, resolve
from .targets import DEFAULT_MODEL, Naming, Target, all_models, canonical_model, target_of

TYPE_CHECKING = False  # spelled out: importing typing is a start-up cost `scenec check` avoids (records.py)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from . import nodes
    from .config import LintOptions
    from .project import Project

    # A parse result: the syntax tree and the syntax diagnostics.
    Parsed = tuple[nodes.SceneFile, list[Diagnostic]]
    # Parses an imported cast file (the language server's reads its open documents first).
    Loader = Callable[[Path], Parsed]

__all__ = ["parse_text", "parse_bytes", "parse_file", "resolve", "choose_target", "check", "render_prompt", "emit",
           "check_file", "check_document", "Checked", "compile_file", "compile_text", "Compiled"]


# Files that were not parsed at all (or not to the end): nothing to resolve or check.
UNPARSEABLE = {"not-text", "file-too-large", "unreadable-file", "parse-stopped"}


def choose_target(scene: ir.Scene, model: str | None = None) -> tuple[ir.Scene, Target, list[Diagnostic]]:
    """The scene for its target: `model` (the command line's --model) over the scene's own (its MODEL, else the
    configuration's, else the default), written as the target spells it, and the settings the writer left out
    settled to the target's defaults.  An unknown --model is reported here; an unknown MODEL by check."""
    found: list[Diagnostic] = []
    settings = scene.settings
    if model is not None:
        if canonical_model(model) is None:
            found.append(make("bad-setting-value", f"--model cannot be {model!r}; use one of {', '.join(all_models())}",
                              None, path=scene.path))
        # The header's MODEL no longer decides: check judges the model it names no more.
        settings = settings._replace(model=model.strip(), given=settings.given - {"MODEL"})
    elif "MODEL" not in settings.given and canonical_model(settings.model) is None:
        # The configuration's model, unknown: compiler/config.py reports it at its line, and it is not used.
        settings = settings._replace(model=DEFAULT_MODEL)
    settings = settings._replace(model=canonical_model(settings.model) or settings.model)
    target = target_of(settings.model)
    return scene._replace(settings=target.settle(settings)), target, found


def render_prompt(scene: ir.Scene, naming: Naming | None = None) -> str:
    from . import prompt

    return prompt.render_prompt(scene, naming)  # through the module: the language server replaces it


def emit(scene: ir.Scene, prompt: str, target: Target | None = None,
         naming: Naming | None = None) -> tuple[BaseModel | None, list[Diagnostic]]:
    """The target's request body for the scene and its prompt, validated by the target's request model."""
    from .emit import validate

    target = target or target_of(scene.settings.model)
    body = target.payload_dict(scene, prompt, naming or target.naming(scene))
    return validate(scene.path, body, target.request_model())


class Compiled:
    """Everything one compile produced; payload is None when there were errors."""

    def __init__(self, path: str, scene: ir.Scene | None, diagnostics: list[Diagnostic] | None = None,
                 prompt: str | None = None, payload: BaseModel | None = None, target: Target | None = None,
                 naming: Naming | None = None) -> None:
        self.path, self.scene, self.prompt, self.payload = path, scene, prompt, payload
        self.target, self.naming = target, naming
        self.diagnostics = diagnostics if diagnostics is not None else []

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _front(path: Path | None, text: str | None, *, data: bytes | None = None, loader: Loader | None = None,
           parsed: Parsed | None = None,
           model: str | None = None) -> tuple[nodes.SceneFile, ir.Scene | None, Target | None, list[Diagnostic]]:
    """parse, resolve and choose the target: (syntax tree, scene for its target or None when the file could not
    be parsed at all, the target, diagnostics).

    Reads `text`, else `data`, the file's bytes as an editor holds them (unsaved), else the file at `path`;
    `loader` parses imported cast files; `parsed` is the parse of `data` when the caller has it already (the
    language server's incremental one); `model` overrides the scene's (--model)."""
    if parsed is not None:
        scene_file, diagnostics = parsed[0], list(parsed[1])
    elif text is not None:
        scene_file, diagnostics = parse_text(text, path)
    elif data is not None:
        scene_file, diagnostics = parse_bytes(data, path)
    elif path is not None:
        scene_file, diagnostics = parse_file(path)
    else:
        raise ValueError("nothing to parse: give a path, data or text")
    if any(d.code in UNPARSEABLE for d in diagnostics):
        return scene_file, None, None, diagnostics
    scene, resolved = resolve(scene_file, loader=loader)
    scene, target, chosen = choose_target(scene, model)
    diagnostics += resolved + chosen + config_diagnostics(scene.project) + lint_config(scene.project)
    return scene_file, scene, target, diagnostics


def lint_config(project: Project | None) -> list[Diagnostic]:
    """The configuration's unknown keys and lint values (compiler/config.py); none without a configuration
    or with only the usual [media] keys (then compiler/config.py is not even loaded: start-up)."""
    if project is None or project.config is None or project.holds_only_media():
        return []
    from .config import config_diagnostics as lint_config_diagnostics

    return lint_config_diagnostics(project)


def lint_finish(scene_file: nodes.SceneFile, scene: ir.Scene | None, diagnostics: list[Diagnostic],
                lint: LintOptions | None = None) -> list[Diagnostic]:
    """select/ignore and the suppression comments applied (compiler/suppress.py), sorted.  Without a
    configuration, options or a `scenec:` comment in the files concerned, the diagnostics are unchanged."""
    project = scene.project if scene is not None else None
    others = {d.path for d in diagnostics if d.path and d.path != scene_file.source.name}
    configured = lint is not None or (project is not None and project.config is not None
                                      and not project.holds_only_media())
    if configured or "scenec" in scene_file.source.text or others:
        from .config import settings_of
        from .suppress import finish, read_sources

        diagnostics = finish(scene_file.source, diagnostics, settings_of(project, lint), read_sources(others))
    return sorted(diagnostics, key=sort_key)


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


def check_file(path: Path, *, probe: bool = True, lint: LintOptions | None = None,
               model: str | None = None) -> list[Diagnostic]:
    """parse, resolve, check: the linter's job (no request model, templates only near the prompt limit).

    A `.cast` file is checked as a cast: syntax, names, media, and that it holds nothing but a cast.
    `lint`: the command line's select/ignore (compiler/config.py), over the project's configuration.
    `model`: the command line's --model, over the scene's MODEL and the configuration.
    """
    return check_document(path, probe=probe, lint=lint, model=model).diagnostics


def check_document(path: Path, data: bytes | None = None, *, probe: bool = True,
                   loader: Loader | None = None, lint: LintOptions | None = None,
                   parsed: Parsed | None = None, model: str | None = None) -> Checked:
    """check_file's work, keeping the tree and scene (the language server's features read them).

    `data`: the file's bytes as an editor holds them (unsaved); `loader(path)` parses an imported cast file;
    `parsed`: parse_bytes(data, path)'s result, when the caller already has it.
    """
    scene_file, scene, target, diagnostics = _front(path, None, data=data, loader=loader, parsed=parsed, model=model)
    if scene is not None:
        diagnostics += check(scene, target, probe=probe)
        if path.suffix == ".cast":
            diagnostics = [d for d in diagnostics if d.code not in SCENE_ONLY]
            if not holds_only_a_cast(scene_file):
                diagnostics.append(make("cast-file-content", "a cast file holds only CAST blocks (and comments), "
                                        "not settings or script", None, path=str(path)))
    return Checked(scene_file, scene, lint_finish(scene_file, scene, diagnostics, lint))


def compile_file(path: Path, *, probe: bool = True, model: str | None = None) -> Compiled:
    """parse, resolve, check and emit for the chosen target (`model`: the command line's --model)."""
    return _compile(path, None, probe=probe, model=model)


def compile_text(text: str, path: Path | None = None, *, probe: bool = True, model: str | None = None) -> Compiled:
    return _compile(path, text, probe=probe, model=model)


def _compile(path: Path | None, text: str | None, *, probe: bool, model: str | None) -> Compiled:
    name = str(path) if path else "<text>"
    scene_file, scene, target, diagnostics = _front(path, text, model=model)
    if scene is None or target is None:
        return Compiled(name, None, lint_finish(scene_file, scene, diagnostics))
    naming = target.naming(scene)
    prompt = render_prompt(scene, naming)
    diagnostics += check(scene, target, probe=probe, prompt_length=len(prompt))
    result = Compiled(name, scene, diagnostics, prompt, target=target, naming=naming)
    if not has_errors(diagnostics):
        result.payload, emitted = emit(scene, prompt, target, naming)
        result.diagnostics += emitted
    # Only warnings can be silenced, so what decided the payload above is unchanged.
    result.diagnostics = lint_finish(scene_file, scene, result.diagnostics)
    return result
