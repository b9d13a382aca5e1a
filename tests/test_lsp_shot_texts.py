"""The language server's prompt rendering (compiler/lsp/shot_texts.py): reusing each shot's rendered block gives
exactly render_prompt's text, for every shipped template, after any chain of edits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from compiler import prompt
from compiler.lsp import shot_texts
from compiler.parse import parse_text
from compiler.resolve import resolve

from .test_lsp_incremental import PATH, TEXTS, edits, long_scene

FORMS = sorted(path for path in TEXTS if path.name.startswith("forms"))


def scene_of(text: str):
    tree, found = parse_text(text, PATH)
    return None if found else resolve(tree)[0]


def test_the_forms_cover_every_shipped_template() -> None:
    names = {prompt.prompt_template(scene).name for scene in map(scene_of, (p.read_text() for p in FORMS)) if scene}
    assert names == {f"{style}.{language}.j2" for style in ("prose", "shots", "timed") for language in ("en", "zh")}


@given(st.data())
def test_reused_blocks_give_the_whole_rendering(data) -> None:
    """Each version, and a cut of it (as the crossing search renders), through the blocks kept from the
    versions before equals render_prompt."""
    base = data.draw(st.sampled_from([*FORMS, *TEXTS, None]))
    text = long_scene(8) if base is None else base.read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        scene = scene_of(text)
        if scene is not None and scene.shots:
            assert shot_texts.remembered_render(scene) == prompt.render_prompt(scene)
            cut = scene._replace(shots=scene.shots[:data.draw(st.integers(1, len(scene.shots)))])
            assert shot_texts.remembered_render(cut) == prompt.render_prompt(cut)
        text = data.draw(edits(text))


def test_an_edit_renders_only_the_edited_shot_again() -> None:
    text = long_scene(60)
    scene = scene_of(text)
    shot_texts.forget(scene.path)  # nothing kept from the other tests
    assert shot_texts.remembered_render(scene) == prompt.render_prompt(scene)
    middle = text.index("shot 30")
    for typed in ("x", "a longer aside, ", "x"):
        text = text[:middle] + typed + text[middle:]
        scene = scene_of(text)
        before = dict(shot_texts.stats)
        assert shot_texts.remembered_render(scene) == prompt.render_prompt(scene)
        assert shot_texts.stats["rendered"] - before["rendered"] == 1
        assert shot_texts.stats["reused"] - before["reused"] == 30  # the shots before it; the ones after moved


def test_a_shot_numbered_by_the_template_keeps_its_number_when_rendered_alone() -> None:
    """The shipped templates number shots by shot.number, not by the loop: a shot rendered alone, as the
    server and the preview do, says its own number."""
    scene = scene_of(next(p for p in FORMS if p.name == "forms-shots.scene").read_text())
    assert scene is not None and len(scene.shots) >= 2
    template = prompt.prompt_template(scene)
    view = prompt.shot_views(scene)[1]
    opening = template.render(shots=[], **prompt.template_context(scene))
    assert template.render(shots=[view], **prompt.template_context(scene))[len(opening):].lstrip().startswith("2.")


def test_a_closed_scene_s_blocks_are_dropped() -> None:
    scene = scene_of(long_scene(3))
    shot_texts.remembered_render(scene)
    assert scene.path in shot_texts._blocks
    shot_texts.forget(scene.path)
    assert scene.path not in shot_texts._blocks
