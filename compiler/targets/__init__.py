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

from .. import ir
from ..vocabulary import DEFAULT_MODEL
from .base import Naming, Target

__all__ = ["Target", "Naming", "TARGETS", "DEFAULT_MODEL", "all_models", "for_model", "target_of", "canonical_model",
           "nearest_models", "naming_of"]

_MODULES = ("wan27", "wan30", "happyhorse", "wan26", "kling")
# The service has no default model: a scene without MODEL is compiled for the language's DEFAULT_MODEL.


def _load() -> tuple[Target, ...]:
    """Each module's TARGET, by name: the registry sits below the targets in the layers (Kling renders shot
    prompts, so it sits after prompt), and a static import here would point up a layer."""
    return tuple(importlib.import_module(f"{__name__}.{name}").TARGET for name in _MODULES)


TARGETS: tuple[Target, ...] = _load()
_BY_MODEL = {model: target for target in TARGETS for model in target.models}
_BY_LOWER = {model.lower(): model for model in _BY_MODEL}


def all_models() -> tuple[str, ...]:
    """Every model id some target takes, in the targets' order."""
    return tuple(_BY_MODEL)


def canonical_model(model: str) -> str | None:
    """The model id as its target spells it (read in any case, spaces around), or None when no target takes it."""
    return _BY_LOWER.get(model.strip().lower())


def for_model(model: str) -> Target | None:
    """The target of a model id (read in any case), or None when no target takes it."""
    canonical = canonical_model(model)
    return _BY_MODEL[canonical] if canonical is not None else None


def target_of(scene_model: str) -> Target:
    """The target a scene compiles for: its model's, or the default's when the model is unknown (check reports
    the unknown MODEL at its line; the rest of the scene is still checked)."""
    return for_model(scene_model) or _BY_MODEL[DEFAULT_MODEL]


def naming_of(scene: ir.Scene) -> Naming:
    """What the scene's target calls each reference (the language server, preview and fixes read it)."""
    return target_of(scene.settings.model).naming(scene)


def nearest_models(text: str) -> list[str]:
    """The models a mistyped id most likely means: those that contain it ("kling", "happyhorse"), else the
    closest spellings ("wan2.7r2v")."""
    from ..diagnostics import did_you_mean

    word = text.strip().lower()
    return [m for m in _BY_MODEL if word and word in m.lower()] or did_you_mean(word, all_models())[:1]
