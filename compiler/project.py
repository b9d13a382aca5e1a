"""The project a scene belongs to: its root folder and scenec.toml, which says where media may come from."""

from __future__ import annotations

from typing import NamedTuple
from pathlib import Path

__all__ = ["Project", "find_project", "CONFIG_NAME"]

CONFIG_NAME = "scenec.toml"


class Project(NamedTuple):
    root: Path                          # the folder holding scenec.toml, or the scene's own folder
    allowed: tuple[Path, ...] = ()      # extra folders media may come from ([media] allow = [...])
    allow_anywhere: bool = False        # [media] allow_anywhere = true: no containment at all
    error: str | None = None            # scenec.toml could not be read

    def contains(self, path: Path) -> bool:
        """True when path, with every symlink resolved, lies inside the root or an allowed folder."""
        if self.allow_anywhere:
            return True
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return False
        return any(real.is_relative_to(folder.resolve()) for folder in (self.root, *self.allowed))


def find_project(scene_path: Path) -> Project:
    """Walk up from the scene to the nearest scenec.toml; without one the scene's folder is the project."""
    start = scene_path.absolute().parent
    for folder in (start, *start.parents):
        config = folder / CONFIG_NAME
        if config.is_file():
            return _read_config(folder, config)
    return Project(start)


def _read_config(root: Path, config: Path) -> Project:
    import tomllib

    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Project(root, error=f"{config}: {error}")
    media = data.get("media", {}) if isinstance(data.get("media", {}), dict) else {}
    allow = media.get("allow", [])
    folders = tuple((root / str(item)).absolute() for item in allow if isinstance(item, str)) if isinstance(allow, list) else ()
    return Project(root, folders, bool(media.get("allow_anywhere", False)))
