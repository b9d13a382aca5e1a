"""Docs stay true to the code: the diagnostics page is generated from the registry."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_diagnostics_page_is_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_diagnostics_doc

    committed = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert committed == gen_diagnostics_doc.render(), "docs/diagnostics.md is stale: run make docs"


def language_examples():
    """(scene text, the prompt the page says it compiles to) for each example followed by "Prompt: `...`"."""
    import re

    lines = (ROOT / "docs" / "language.md").read_text(encoding="utf-8").split("\n")
    shown = re.compile(r"^(?:Prompt: |→ )`([^`]+)`")
    examples, block, inside = [], [], False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            if inside:
                following = [text for text in lines[index + 1:index + 4] if text.strip()][:1]
                match = shown.match(following[0]) if following else None
                if match:
                    examples.append(("\n".join(block) + "\n", match.group(1)))
            inside, block = not inside, []
        elif inside:
            block.append(line)
    return examples


def test_language_page_examples_compile_to_the_prompts_it_shows() -> None:
    """Each example of docs/language.md gives the prompt printed under it ("…" marks an elided part)."""
    from compiler.api import compile_text

    examples = language_examples()
    assert len(examples) >= 5
    for scene, shown in examples:
        # A fragment of the tutorial's scene: read it with the tutorial's cast.
        if "CAST" not in scene and "STORYBOARD:" not in scene:
            cast = (ROOT / "scenes" / "alley.scene").read_text(encoding="utf-8").split("\n\nMAYA walks")[0]
            scene = cast + "\n\n" + scene
        # As if saved in scenes/, where the examples' media and cast files live.
        prompt = compile_text(scene, ROOT / "scenes" / "example.scene", probe=False).prompt or ""
        for fragment in (part.strip() for part in shown.split("…")):
            assert fragment in prompt, (fragment, prompt)
