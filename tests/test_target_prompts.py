"""The prompt names every reference as its target does, the storyboard image included: the opener that
introduces the panels is the storyboard's identifier under each target that takes one."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import targets
from compiler.api import compile_file

PANELS = Path(__file__).resolve().parent.parent / "scenes" / "panels.scene"


@pytest.mark.parametrize("target", [t for t in targets.TARGETS if t.capabilities.storyboard], ids=lambda t: t.name)
def test_the_storyboard_opener_is_the_storyboards_identifier(target: targets.Target) -> None:
    compiled = compile_file(PANELS, model=target.name)
    assert compiled.ok and compiled.scene is not None and compiled.prompt is not None, compiled.diagnostics
    identifier = target.naming(compiled.scene).identifiers["STORYBOARD"]
    opener = compiled.prompt.split(".", 1)[0]
    assert opener.lower() == identifier.lower()  # "Reference image" (wan2.7), "Image 1", "character1"
