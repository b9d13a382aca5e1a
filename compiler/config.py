"""The lint settings of a project: `select`, `ignore` and `warnings-as-errors` from its configuration
(scenec.toml, or [tool.scenec] in pyproject.toml; compiler/project.py finds it), merged with the
command line, with where each value came from; and the configuration's own mistakes as diagnostics.

Precedence (docs/ci.md): the command line, then the nearest configuration file, then the defaults.
Only one file is read per project: the nearest folder holding a scenec.toml or a pyproject.toml with
a [tool.scenec] table; in a folder with both, scenec.toml wins and the pyproject.toml table is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from .diagnostics import CODES, GROUPS, Diagnostic, Suggestions, make
from .project import (
    DEFAULT_KEYS,
    DEFAULT_REGION,
    MEDIA_KEYS,
    REGION_ALIASES,
    REGION_NAMES,
    Project,
    first_given,
    line_of,
)
from .records import Record
from .regions import WORKSPACE_VARIABLES, region_named, workspace_problem
from .source import Source, Span

__all__ = ["RegionConflict", "chosen_region", "configured_region", "WorkspaceConflict", "chosen_workspace",
           "configured_workspace",
           "LintOptions", "LintSettings", "settings_of", "config_diagnostics", "show_settings", "unknown_names",
           "KNOWN_KEYS", "DEFAULT_SETTINGS"]

ALL = "all"  # in select (or ignore): every code

# Keys of the configuration's table (scenec.toml's top level, pyproject.toml's [tool.scenec]).
KNOWN_KEYS = ("select", "ignore", "warnings-as-errors", *DEFAULT_KEYS, "workspace", "media", "network")
KNOWN_TABLE_KEYS = {"media": MEDIA_KEYS, "network": ("allow_hosts", "allow_private")}


class LintOptions(Record):
    """What the command line says (None: not given, the configuration decides)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    warnings_as_errors: bool | None = None


class LintSettings(Record):
    """The merged settings: which codes are reported, and whether a warning fails the run.

    `select` None means every code; names are slugs or group names.  `origins` maps each key to where
    its value came from ("default", "command line", or "path:line").
    """

    select: tuple[str, ...] | None
    ignore: tuple[str, ...]
    warnings_as_errors: bool
    origins: tuple[tuple[str, str], ...] = ()

    def reports(self, code: str) -> bool:
        """True when a diagnostic of this code is shown.  An error always is (it cannot be suppressed), and so is
        a warning about the configuration or a directive itself: a misspelt `select` must not hide its own warning."""
        registered = CODES.get(code)
        if registered is None or not registered.suppressible or registered.group == "config":
            return True
        names = (code, registered.group, ALL)
        if self.select is not None and not any(name in self.select for name in names):
            return False
        return not any(name in self.ignore for name in names)

    @property
    def filters(self) -> bool:
        """True when some code may be filtered out (the defaults report everything)."""
        return self.select is not None or bool(self.ignore)


DEFAULT_SETTINGS = LintSettings(None, (), False, (("select", "default"), ("ignore", "default"),
                                                  ("warnings-as-errors", "default")))


def settings_of(project: Project | None, options: LintOptions | None = None) -> LintSettings:
    """The project's configuration merged with the command line's options (which win)."""
    options = options or LintOptions()
    table = project.table() if project is not None and project.config is not None else {}
    if not table and options == LintOptions():
        return DEFAULT_SETTINGS  # the usual case: no lint keys, nothing on the command line
    where = _Where(project)
    select = _names(table.get("select")) if "select" in table else None
    ignore = _names(table.get("ignore")) or ()
    strict = table.get("warnings-as-errors")
    origins = {"select": where.of("select", select is not None), "ignore": where.of("ignore", bool(ignore)),
               "warnings-as-errors": where.of("warnings-as-errors", isinstance(strict, bool))}
    if options.select is not None:
        select, origins["select"] = options.select, "command line"
    if options.ignore is not None:
        ignore, origins["ignore"] = options.ignore, "command line"
    if options.warnings_as_errors is not None:
        strict, origins["warnings-as-errors"] = options.warnings_as_errors, "command line"
    return LintSettings(select, ignore, strict if isinstance(strict, bool) else False, tuple(origins.items()))


def _names(value: object) -> tuple[str, ...] | None:
    """A list of code or group names, lower-cased; None when the value is not a list of strings (reported)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(item.strip().lower() for item in value)


class _Where:
    """Where a key of the configuration is written: "path:line", or "default" when it is not there."""

    def __init__(self, project: Project | None) -> None:
        self.project = project

    def of(self, key: str, present: bool) -> str:
        if not present or self.project is None or self.project.config is None:
            return "default"
        line = line_of(self.project.config_text, key)
        return f"{self.project.config}:{line}" if line else str(self.project.config)


def unknown_names(names: Iterable[str]) -> list[str]:
    """The names that are neither a registered code nor a group."""
    return [name for name in names if name not in CODES and name not in GROUPS and name != ALL]


# --- the configuration's mistakes --------------------------------------------------------------------

def config_diagnostics(project: Project | None) -> list[Diagnostic]:
    """Unknown keys, lint values of the wrong type, unknown or unsuppressible codes: at their line."""
    if project is None or project.config is None:
        return []
    table = project.table()
    if not table:
        return []
    report = _Report(project)
    for key, value in table.items():
        report.key(key, value)
    return report.found


class _Report:
    """Collects one configuration's diagnostics, each placed at the line that holds it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.text = project.config_text
        self.source = Source(self.text)
        self.found: list[Diagnostic] = []

    def key(self, key: str, value: object) -> None:
        if key not in KNOWN_KEYS or (key == "network" and self.project.in_pyproject):
            self.unknown_key(key, KNOWN_KEYS)
        elif key in ("select", "ignore"):
            self.names(key, value)
        elif key == "warnings-as-errors" and not isinstance(value, bool):
            self.add("config-error", f"warnings-as-errors must be true or false, not {value!r}", key)
        elif key in DEFAULT_KEYS:
            self.default(key, value)
        elif key == "workspace":
            self.workspace(value)
        elif key in KNOWN_TABLE_KEYS and isinstance(value, dict):
            for inner in value:
                if inner not in KNOWN_TABLE_KEYS[key]:
                    self.unknown_key(inner, KNOWN_TABLE_KEYS[key], f"[{key}] ")

    def unknown_key(self, key: str, known: Sequence[str], table: str = "") -> None:
        if key == "network":
            why = "[network] is read from scenec.toml only (the render's URL check reads it there)"
        elif not table and key.lower() in DEFAULT_KEYS:
            why = f"keys are lower case: did you mean {key.lower()}?"
        elif table and key in KNOWN_KEYS:
            why = f"{key} belongs at the top, before the first [table] (TOML puts it in the table above it)"
        else:
            nearest = Suggestions(known)(key, 1)
            why = f"did you mean {nearest[0]}?" if nearest else f"known keys: {', '.join(known)}"
        self.add("config-unknown-key", f"{table}{key} is not a key scenec reads: {why}", key)

    def default(self, key: str, value: object) -> None:
        """model, language, region: a string the scene header (or --region) would take.  A wrong kind is a
        config-error; a value the header would refuse is the header's own bad-setting-value, here."""
        if not isinstance(value, str):
            self.add("config-error", f'{key} must be a string, like {key} = "{_EXAMPLES[key]}", not {_toml(value)}',
                     key)
            return
        if _read_default(key, value) is not None:
            return
        options = sorted(set(_default_choices(key).values()))
        nearest = Suggestions(options)(value.strip(), 1)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        self.add("bad-setting-value", f"{key} cannot be {value!r}; use one of {', '.join(options)}{hint}", key)

    def workspace(self, value: object) -> None:
        """workspace: a Model Studio workspace id, which render, cost and cancel put in a host name."""
        if not isinstance(value, str):
            self.add("config-error", f'workspace must be a string, like workspace = "llm-abc123", not {_toml(value)}',
                     "workspace")
            return
        problem = workspace_problem(value.strip())
        if problem:
            self.add("bad-setting-value", f"{problem}; it is not used", "workspace")

    def names(self, key: str, value: object) -> None:
        names = _names(value)
        if names is None:
            self.add("config-error", f'{key} must be a list of codes or groups, like ["unused-member", "style"]', key)
            return
        for name in unknown_names(names):
            nearest = Suggestions([*CODES, *GROUPS])(name, 1)
            hint = f" (did you mean {nearest[0]}?)" if nearest else ""
            self.add("unknown-suppression-code", f"{key}: {name} is not a diagnostic code or group{hint}", key, name)
        if key == "ignore":
            for name in names:
                if name in CODES and not CODES[name].suppressible:
                    self.add("unsuppressible-code", f"ignore: {name} is an error and cannot be ignored; "
                             "it is still reported", key, name)

    def add(self, code: str, message: str, key: str, value: str | None = None) -> None:
        self.found.append(make(code, message, self.span(key, value), path=str(self.project.config)))

    def span(self, key: str, value: str | None) -> Span | None:
        line = line_of(self.text, key)
        if not line:
            return None
        begin = self.source.line_starts[line - 1]
        end = self.text.find("\n", begin)
        end = len(self.text) if end < 0 else end
        found = self.text.find(value, begin) if value else -1  # a list's item: usually on the key's line
        if found >= 0:
            return self.source.span(found, found + len(value or ""))
        return self.source.span(begin, end)




_EXAMPLES = {"model": "wan2.7-r2v", "language": "zh", "region": "singapore"}


def _default_choices(key: str) -> dict[str, str]:
    """The names a default takes, mapped to what they mean: the header's tables for model and language
    (resolve/settings.py), the regions --region takes and their aliases (project.py) for region."""
    header = DEFAULT_KEYS[key]
    if header == "MODEL":
        from .targets import all_models  # the models are the compile targets' knowledge

        return {model: model for model in all_models()}
    if header is not None:
        from .resolve.settings import DEFAULT_CHOICES

        return DEFAULT_CHOICES[header]
    return {**{name: name for name in REGION_NAMES}, **REGION_ALIASES}


def _read_default(key: str, written: str) -> str | None:
    """A configured default read as the header (or --region) reads it: any case, spaces around; None if refused."""
    header = DEFAULT_KEYS[key]
    if header == "MODEL":
        from .targets import canonical_model

        return canonical_model(written)
    if header is not None:
        from .resolve.settings import configured_value

        return configured_value(header, written)
    region = region_named(written)
    return region.name if region is not None else None


def configured_region(project: Project | None) -> tuple[str, str] | None:
    """(the region's name, "path:line") when the project's configuration gives a known region, else None
    (an unknown one is reported by config_diagnostics and not used)."""
    written = project.default("region") if project is not None else None
    if project is None or written is None:
        return None
    name = _read_default("region", written)
    return (name, _origin(project, "region")) if name else None


class RegionConflict(ValueError):
    """The scenes given belong to projects configured for different regions, and nothing else decides."""


def chosen_region(flag: str | None, env: Mapping[str, str], projects: Iterable[Project]) -> tuple[str, str]:
    """(region, where it came from) for render, cost, cancel and preview, in project.PRECEDENCE order:
    --region, SCENEC_REGION, the scenes' configuration, the built-in default.  Raises RegionConflict when
    it comes to the configuration and the projects disagree (a guess could send to the wrong endpoint)."""
    from_config = None
    if not flag and not env.get("SCENEC_REGION", "").strip():
        from_config = _one_configured(projects, configured_region, RegionConflict, "region", "--region")
    from_env = env.get("SCENEC_REGION", "").strip() or None
    found = first_given("region", {"command line": flag, "SCENEC_REGION": from_env, "configuration": from_config,
                                   "default": DEFAULT_REGION})
    return found or (DEFAULT_REGION, "default")


def configured_workspace(project: Project | None) -> tuple[str, str] | None:
    """(the workspace id, "path:line") when the project's configuration gives a usable one, else None (a
    wrong one is reported by config_diagnostics and not used)."""
    written = project.default("workspace") if project is not None else None
    if project is None or written is None or workspace_problem(written.strip()):
        return None
    return written.strip(), _origin(project, "workspace")


class WorkspaceConflict(ValueError):
    """The scenes given belong to projects configured for different workspaces, and nothing else decides."""


def chosen_workspace(flag: str | None, env: Mapping[str, str],
                     projects: Iterable[Project]) -> tuple[str, str] | None:
    """(workspace id, where it came from) for render, cost and cancel in project.PRECEDENCE order: --workspace,
    SCENEC_WORKSPACE, the SDK's DASHSCOPE_WORKSPACE and DASHSCOPE_WORKSPACE_ID, the scenes' configuration;
    None when nothing names one (the region's legacy host).  The id is returned as given: the caller refuses
    a bad one (regions.workspace_problem).  Raises WorkspaceConflict when it comes to the configuration and
    the projects disagree (a guess could bill another workspace)."""
    candidates: dict[str, str | None] = {"command line": flag.strip() if flag is not None else None}
    candidates.update({name: env.get(name, "").strip() or None for name in WORKSPACE_VARIABLES})
    if all(value is None for value in candidates.values()):
        candidates["configuration"] = _one_configured(projects, configured_workspace, WorkspaceConflict,
                                                      "workspace", "--workspace")
    return first_given("workspace", candidates)


def _one_configured(projects: Iterable[Project], read: Callable[[Project], tuple[str, str] | None],
                    conflict: type[ValueError], noun: str, option: str) -> str | None:
    """The one value (region, workspace) the scenes' projects configure, None when none does; `conflict` when
    they disagree, a project without one included (a guess could send to the wrong endpoint or bill another
    workspace)."""
    configured: dict[str | None, str] = {}  # value (None: not configured) -> a project that says so
    for project in projects:
        found = read(project)
        configured.setdefault(found[0] if found else None, found[1] if found else str(project.root))
    if len(configured) > 1:
        said = "; ".join(f"{value or 'none configured'} ({where})" for value, where in configured.items())
        raise conflict(f"the scenes' projects configure different {noun}s: {said}; pass {option} or give them one "
                       "at a time")
    return next(iter(configured), None)


# --- scenec check --show-settings -----------------------------------------------------------------

def show_settings(project: Project, settings: LintSettings) -> str:
    """The merged settings, one `key = value  # from where` per line (TOML a user can copy)."""
    origins = dict(settings.origins)
    config = str(project.config) if project.config else "none (defaults)"
    lines = [f"# project: {project.root}", f"# configuration: {config}"]
    values: list[tuple[str, object]] = [
        ("select", list(settings.select) if settings.select is not None else [ALL]),
        ("ignore", list(settings.ignore)), ("warnings-as-errors", settings.warnings_as_errors)]
    for key, value in values:
        lines.append(f"{key} = {_toml(value)}  # {origins.get(key, 'default')}")
    media_origin = _origin(project, "allow") if project.allowed else "default"
    lines.append(f"media.allow = {_toml([str(p) for p in project.allowed])}  # {media_origin}")
    anywhere_origin = _origin(project, "allow_anywhere") if project.allow_anywhere else "default"
    lines.append(f"media.allow_anywhere = {_toml(project.allow_anywhere)}  # {anywhere_origin}")
    lines.extend(_default_lines(project))
    return "\n".join(lines)


def _default_lines(project: Project) -> list[str]:
    """model, language, region: the project's default and where it came from, by project.PRECEDENCE (there is
    no scene or command line here: a scene's header still wins for model and language, --region for region)."""
    from .ir import Settings

    builtin = {"model": Settings().model, "language": Settings().language, "region": DEFAULT_REGION}
    lines = []
    for key in DEFAULT_KEYS:
        written = project.default(key)
        candidates = {"configuration": _read_default(key, written) if written is not None else None,
                      "API default": builtin[key], "default": builtin[key]}
        if key == "region":
            candidates["SCENEC_REGION"] = _env_region()
        value, origin = first_given(key, candidates) or (builtin[key], "default")
        lines.append(f"{key} = {_toml(value)}  # {_origin(project, key) if origin == 'configuration' else origin}")
    return lines


def _env_region() -> str | None:
    import os

    return os.environ.get("SCENEC_REGION", "").strip().lower() or None


def _origin(project: Project, key: str) -> str:
    line = line_of(project.config_text, key)
    return f"{project.config}:{line}" if line else str(project.config)


def _toml(value: object) -> str:
    import datetime
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.time)):  # TOML's dates and times: no JSON form
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)
