"""The project a scene belongs to: its root folder and scenec.toml, which says where media may come from."""

from __future__ import annotations

from pathlib import Path

__all__ = ["Project", "find_project", "CONFIG_NAME"]

CONFIG_NAME = "scenec.toml"


class Project:
    """A project root and, read only when a path falls outside the root, its extra allowed folders."""

    __slots__ = ("root", "config", "_allowed", "_anywhere", "error")

    def __init__(self, root: Path, config: Path | None = None, allowed: tuple[Path, ...] | None = None,
                 allow_anywhere: bool = False) -> None:
        self.root, self.config, self.error = root, config, None
        self._allowed, self._anywhere = allowed, allow_anywhere

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def contains(self, path: Path) -> bool:
        """True when path, with every symlink resolved, lies inside the root or an allowed folder."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return False
        if real.is_relative_to(self.root.resolve()):
            return True
        self._load()
        return self._anywhere or any(real.is_relative_to(folder.resolve()) for folder in self._allowed)

    @property
    def allowed(self) -> tuple[Path, ...]:
        self._load()
        return self._allowed

    @property
    def allow_anywhere(self) -> bool:
        self._load()
        return self._anywhere

    def section(self, name: str) -> dict:
        """The [name] table of scenec.toml; {} when there is none or the file cannot be read (reported elsewhere)."""
        import tomllib

        try:
            table = tomllib.loads(self.config.read_text(encoding="utf-8")).get(name, {}) if self.config else {}
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return {}
        return table if isinstance(table, dict) else {}

    def _load(self) -> None:
        """Read [media] allow / allow_anywhere from scenec.toml (once; most scenes never need it)."""
        if self._allowed is not None:
            return
        self._allowed = ()
        if self.config is None:
            return
        import tomllib

        try:
            data = tomllib.loads(self.config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            self.error = f"{self.config}: {error}"
            return
        media = data.get("media", {})
        media = media if isinstance(media, dict) else {}
        allow = media.get("allow", [])
        if isinstance(allow, list):
            self._allowed = tuple((self.root / item).absolute() for item in allow if isinstance(item, str))
        self._anywhere = media.get("allow_anywhere", False) is True


def find_project(scene_path: Path) -> Project:
    """Walk up from the scene to the nearest scenec.toml; without one the scene's folder is the project."""
    start = scene_path.absolute().parent
    for folder in (start, *start.parents):
        config = folder / CONFIG_NAME
        if config.is_file():
            return Project(folder, config)
    return Project(start)
