"""The project a scene belongs to: its root folder and its configuration (scenec.toml, or [tool.scenec] in
pyproject.toml), which says where media may come from and which diagnostics are reported (compiler/config.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .regions import DEFAULT_REGION, REGION_ALIASES, REGION_NAMES

__all__ = ["Project", "ConfigError", "find_project", "read_config", "line_of", "CONFIG_NAME", "PYPROJECT_NAME",
           "MEDIA_KEYS", "DEFAULT_KEYS", "PRECEDENCE", "first_given", "REGION_NAMES", "REGION_ALIASES",
           "DEFAULT_REGION"]

CONFIG_NAME = "scenec.toml"
PYPROJECT_NAME = "pyproject.toml"  # its [tool.scenec] table, when it has one, is the same configuration
MEDIA_KEYS = ("allow", "allow_anywhere")  # [media]; the other keys are compiler/config.py's
# The project's defaults (issue 13): the configuration's key -> the scene header's setting it stands in for
# ("region" has no header key: it is where render, cost, status, cancel and preview send and price).
DEFAULT_KEYS = {"model": "MODEL", "language": "LANGUAGE", "region": None}
# The DashScope regions a project's `region`, --region or SCENEC_REGION may name, and the names users know
# them by, are compiler/regions.py's table (re-exported here for the modules that read them from here).
# Where each default's value comes from, the first that gives one wins (docs/ci.md, "Project defaults").
# The one place this order is written: resolve/settings.py walks it for model and language, render/commands.py
# and writer_commands.py for region.  "command line" for model is issue 15's --model (nothing gives it yet).
PRECEDENCE = {
    "model": ("command line", "scene header", "configuration", "API default"),
    "language": ("command line", "scene header", "configuration", "default"),
    "region": ("command line", "SCENEC_REGION", "configuration", "default"),
    # config.chosen_workspace walks this one.  No default: without a workspace, requests go to the region's
    # legacy host (compiler/regions.py).
    "workspace": ("command line", "SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE", "DASHSCOPE_WORKSPACE_ID",
                  "configuration"),
}


class Project:
    """A project root and its scenec.toml: the extra folders media may come from, and what is wrong with it."""

    __slots__ = ("root", "config", "config_text", "_allowed", "_anywhere", "_errors", "_real_root", "_table")

    def __init__(self, root: Path, config: Path | None = None, allowed: tuple[Path, ...] | None = None,
                 allow_anywhere: bool = False) -> None:
        self.root, self.config, self.config_text = root, config, ""
        self._errors: list[ConfigError] | None = None
        self._allowed, self._anywhere = allowed, allow_anywhere
        self._real_root: Path | None = None
        self._table: dict[str, object] | None = None

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def contains(self, path: Path) -> bool:
        """True when path, with every symlink resolved, lies inside the root or an allowed folder."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return False
        if self._real_root is None:
            self._real_root = self.root.resolve()
        if real.is_relative_to(self._real_root):
            return True
        allowed = self._load()
        return self._anywhere or any(real.is_relative_to(folder.resolve()) for folder in allowed)

    @property
    def allowed(self) -> tuple[Path, ...]:
        return self._load()

    @property
    def allow_anywhere(self) -> bool:
        self._load()
        return self._anywhere

    @property
    def broken(self) -> bool:
        """True when scenec.toml could not be read or has errors (its allowances are then ignored)."""
        return bool(self.config_errors())

    def config_errors(self) -> list[ConfigError]:
        """What is wrong with scenec.toml: syntax errors and wrong types for known keys, with their line."""
        self._load()
        return self._errors or []

    @property
    def in_pyproject(self) -> bool:
        """True when the configuration is pyproject.toml's [tool.scenec] table."""
        return self.config is not None and self.config.name == PYPROJECT_NAME

    def table(self) -> dict[str, object]:
        """The configuration's table: scenec.toml's top level, or pyproject.toml's [tool.scenec]; {} if unreadable."""
        self._load()
        return self._table or {}

    def holds_only_media(self) -> bool:
        """True when the configuration has no key but [media] allow / allow_anywhere (the usual scenec.toml):
        nothing for compiler/config.py to read or report."""
        table = self.table()
        media = table.get("media", {})
        return set(table) <= {"media"} and isinstance(media, dict) and set(media) <= set(MEDIA_KEYS)

    def default(self, key: str) -> str | None:
        """The configuration's `model`, `language` or `region` as written (a string), else None.  A value of
        the wrong kind is left out here and reported by compiler/config.py at its line."""
        if self.config is None:
            return None
        value = self.table().get(key)
        return value if isinstance(value, str) else None

    def section(self, name: str) -> dict[str, object]:
        """The [name] table of the configuration; {} when there is none or the file cannot be read (reported
        elsewhere)."""
        if self.config is None:
            return {}
        table = self.table().get(name, {})
        return table if isinstance(table, dict) else {}

    def _load(self) -> tuple[Path, ...]:
        """Read [media] allow / allow_anywhere from scenec.toml (once per project); the allowed folders."""
        if self._allowed is None:
            self._allowed, self._errors = (), []
            if self.config is not None:
                self._read_media(self.config)
        return self._allowed

    def _read_media(self, config: Path) -> None:
        data, text, self._errors = read_config(config)
        self.config_text = text
        if data is None:
            return
        self._table = _scenec_table(data) if self.in_pyproject else data
        tool = data.get("tool")
        if self.in_pyproject and isinstance(tool, dict) and not isinstance(tool.get("scenec"), dict):
            # `tool.scenec = 3` names scenec's configuration but holds none: said, not silently ignored.
            found = re.search(r"^[ \t]*(?:tool[ \t]*\.[ \t]*)?scenec[ \t]*=", text, re.MULTILINE)
            line = text.count("\n", 0, found.start()) + 1 if found else 0
            self._errors.append(ConfigError("[tool.scenec] must be a table of settings, like [tool.scenec] with "
                                            "model = \"wan2.7-r2v\" under it", line))
        media = self._table.get("media", {})
        if not isinstance(media, dict):
            self._errors.append(ConfigError("[media] must be a table", line_of(text, "media")))
            return
        allow = media.get("allow", [])
        if not isinstance(allow, list) or not all(isinstance(item, str) for item in allow):
            self._errors.append(ConfigError('[media] allow must be a list of folder paths, like ["../shared"]',
                                          line_of(text, "allow")))
        else:
            self._allowed = tuple((self.root / item).absolute() for item in allow)
        anywhere = media.get("allow_anywhere", False)
        if not isinstance(anywhere, bool):
            self._errors.append(ConfigError("[media] allow_anywhere must be true or false",
                                          line_of(text, "allow_anywhere")))
        else:
            self._anywhere = anywhere


def first_given(key: str, candidates: dict[str, str | None]) -> tuple[str, str] | None:
    """(value, where it came from) for one of the project's defaults: the first source in PRECEDENCE[key]
    order that `candidates` gives a value for; None when none does."""
    for origin in PRECEDENCE[key]:
        value = candidates.get(origin)
        if value is not None:
            return value, origin
    return None


class ConfigError:
    """One mistake in scenec.toml: a sentence and where (1-based line and column; 0 when unknown)."""

    __slots__ = ("message", "line", "column")

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        self.message, self.line, self.column = message, line, column

    def __repr__(self) -> str:
        return f"ConfigError({self.message!r}, {self.line}, {self.column})"


MAX_CONFIG_BYTES = 1024 * 1024


def read_config(config: Path) -> tuple[dict[str, object] | None, str, list[ConfigError]]:
    """scenec.toml (or pyproject.toml) parsed: (data or None, its text, errors).  Never raises."""
    from .source import InputRefused, read_input

    try:
        text = read_input(config, MAX_CONFIG_BYTES).decode("utf-8")
    except InputRefused as refused:
        return None, "", [ConfigError(f"cannot read {config.name}: {refused.reason}")]
    except UnicodeDecodeError:
        return None, "", [ConfigError(f"{config.name} is not UTF-8 text")]
    trivial = _trivial_config(text)
    if trivial is not None:
        return trivial, text, []
    import tomllib

    try:
        return tomllib.loads(text), text, []
    except tomllib.TOMLDecodeError as error:
        return None, text, [_syntax_error(error)]
    except RecursionError:  # tomllib recurses once per nested array or table: thousands of "[" end here
        return None, text, [ConfigError("the configuration nests arrays or tables too deeply to read")]


# The usual scenec.toml, comments aside (scenes/ and tests/cases/ hold it): known without importing
# tomllib, which would add ~5 ms to every `scenec check` (a start-up budget of ~30 ms).  String methods,
# not regular expressions: compiling a pattern costs more than this whole check.
_TRIVIAL: dict[tuple[str, ...], dict[str, dict[str, object]]] = {
    (): {}, ("[media]",): {"media": {}}, ("[media]", "allow=[]"): {"media": {"allow": []}}}
_BLANKS = " \t"


def _trivial_config(text: str) -> dict[str, object] | None:
    """The parsed form of a config made only of comments, blank lines, `[media]` and `allow = []`, else None
    (then tomllib decides).  Anything else, a stray carriage return included, is left to tomllib."""
    if "\r" in text:
        return None
    lines = tuple(kind for kind in map(_trivial_line, text.split("\n")) if kind)
    found = _TRIVIAL.get(lines)
    return None if found is None else {key: dict(value) for key, value in found.items()}


def _trivial_line(line: str) -> str:
    """'' for a blank or comment line, '[media]' or 'allow=[]' for those, '?' for anything else."""
    if any((char < " " and char != "\t") or char == "\x7f" for char in line):
        return "?"  # TOML refuses control characters, even in comments
    stripped = line.strip(_BLANKS)
    if not stripped or stripped[0] == "#":
        return ""
    if stripped[0] == "[" and stripped[-1] == "]" and stripped[1:-1].strip(_BLANKS) == "media":
        return "[media]"
    key, equals, value = stripped.partition("=")
    value = value.strip(_BLANKS)
    if equals and key.rstrip(_BLANKS) == "allow" and value[:1] == "[" and value[-1:] == "]" \
            and not value[1:-1].strip(_BLANKS):
        return "allow=[]"
    return "?"


def _syntax_error(error: Exception) -> ConfigError:
    """tomllib's message ends "(at line L, column C)" (Python 3.14 also has lineno/colno attributes)."""
    message = str(error)
    line, column = getattr(error, "lineno", 0) or 0, getattr(error, "colno", 0) or 0
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        message = message[:found.start()]
        line, column = line or int(found.group(1)), column or int(found.group(2))
    return ConfigError(f"TOML syntax error: {message}", line, column)


def line_of(text: str, key: str) -> int:
    """The line of `key =` (or of [key], [tool.scenec.key]) in the text, for a type error tomllib cannot place;
    0 if not found.  In a pyproject.toml only the part from [tool.scenec] on is searched."""
    begin = text.find("[tool.scenec")
    begin = text.rfind("\n", 0, begin) + 1 if begin >= 0 else 0
    pattern = rf"^[ \t]*(?:{re.escape(key)}[ \t]*=|\[[ \t]*(?:tool\.scenec\.)?{re.escape(key)}[ \t]*\])"
    found = re.compile(pattern, re.MULTILINE).search(text, begin)
    return text.count("\n", 0, found.start()) + 1 if found else 0


def _scenec_table(data: dict[str, object]) -> dict[str, object]:
    """pyproject.toml's [tool.scenec] table; {} when it has none (or `tool` is not a table)."""
    tool = data.get("tool")
    table = tool.get("scenec") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else {}


_declares: dict[tuple[str, int, int], bool] = {}


def _pyproject_declares_scenec(path: Path) -> bool:
    """True when pyproject.toml has a [tool.scenec] table.  Its text is searched for "scenec" first, so a
    pyproject.toml that never names it is not parsed (start-up: tomllib costs ~5 ms); answers are cached
    by the file's size and modification time."""
    try:
        status = path.stat()
    except (OSError, ValueError):
        return False
    key = (str(path), status.st_mtime_ns, status.st_size)
    if key not in _declares:
        _declares[key] = _names_scenec_table(path)
    return _declares[key]


def _names_scenec_table(path: Path) -> bool:
    from .source import InputRefused, read_input

    try:
        text = read_input(path, MAX_CONFIG_BYTES).decode("utf-8")
    except (InputRefused, UnicodeDecodeError):
        return False  # not this project's configuration: a broken pyproject.toml is another tool's to report
    if "scenec" not in text:
        return False
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool")
    except (tomllib.TOMLDecodeError, RecursionError):
        # Its mistake is reported when it is the configuration; here it counts as one if it names the table.
        return "[tool.scenec" in text
    return isinstance(tool, dict) and "scenec" in tool


def find_project(scene_path: Path) -> Project:
    """Walk up from the scene to the nearest configuration: a scenec.toml, or a pyproject.toml with a
    [tool.scenec] table (in one folder with both, scenec.toml wins); without one the scene's folder is the project."""
    start = scene_path.absolute().parent
    for folder in (start, *start.parents):
        config = folder / CONFIG_NAME
        if os.path.isfile(config):  # os.path: a path too long or unreadable is "no config", not a traceback
            return Project(folder, config)
        pyproject = folder / PYPROJECT_NAME
        if os.path.isfile(pyproject) and _pyproject_declares_scenec(pyproject):
            return Project(folder, pyproject)
    return Project(start)
