"""The compile targets: one module per model family on the DashScope video-synthesis endpoint.

    wan27.py        wan2.7-r2v (the default)
    wan30.py        wan3.0-video (preview)
    happyhorse.py   happyhorse-1.0-r2v
    wan26.py        wan2.6-r2v, wan2.6-r2v-flash
    kling.py        kling/kling-v3-omni-video-generation

Adding a target is one module here (a `Target` subclass instance named TARGET), its line in `_MODULES`, and
golden cases (docs/architecture.md, "Adding a target").
"""

from __future__ import annotations

import importlib

from .base import Target

__all__ = ["Target", "TARGETS", "DEFAULT_MODEL", "all_models", "for_model", "target_of"]

_MODULES = ("wan27", "wan30", "happyhorse", "wan26", "kling")
DEFAULT_MODEL = "wan2.7-r2v"  # the service has no default model: a scene without MODEL is compiled for this


def _load() -> tuple[Target, ...]:
    found = []
    for name in _MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:  # a target not written yet (issue 15 in progress)
            if error.name != f"{__name__}.{name}":
                raise
            continue
        found.append(module.TARGET)
    return tuple(found)


TARGETS: tuple[Target, ...] = _load()
_BY_MODEL = {model: target for target in TARGETS for model in target.models}


def all_models() -> tuple[str, ...]:
    """Every model id some target takes, in the targets' order."""
    return tuple(_BY_MODEL)


def for_model(model: str) -> Target | None:
    """The target of a model id, or None when no target takes it."""
    return _BY_MODEL.get(model.strip())


def target_of(scene_model: str) -> Target:
    """The target a scene compiles for: its model's, or the default's when the model is unknown (check reports
    the unknown MODEL at its line; the rest of the scene is still checked)."""
    return for_model(scene_model) or _BY_MODEL[DEFAULT_MODEL]
