"""docs/targets.md is generated from the target modules and kept current; the generator shows a target's values."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from compiler import ir
from compiler.limits import ApiDefaults, FileLimits, Limits
from compiler.targets.base import Capabilities, Naming, Slot, Target

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_targets_doc  # noqa: E402


def test_committed_page_is_current() -> None:
    committed = (ROOT / "docs" / "targets.md").read_text(encoding="utf-8")
    assert committed == gen_targets_doc.render(), "docs/targets.md is stale: run make docs"


# ---------------------------------------------------------------- a test double of the Target interface


class Double(Target):
    """A made-up target whose every value is distinct, so the table can be read back."""

    name = "double-1"
    models = ("double-1", "double-1-2026-12-01")
    title = "A test double"
    status = "preview"
    sources = "this test's own reading"
    capabilities = Capabilities(voice=True, reference_video=True, max_reference_videos=2, first_frame=True,
                                first_frame_with_references=False, storyboard=False, negative_prompt=False,
                                prompt_extend=False, data_uri=True, seed=True, multi_shot_field=True)
    limits = Limits(min_references=1, max_references=7, max_first_frames=1, prompt_chars=1234,
                    negative_prompt_chars=500, image=FileLimits(("png",), 1_000_000, sides=(300, 3000)),
                    video=FileLimits(("mp4",), 9_000_000, sides=(300, 2000), seconds=(2.0, 8.0)),
                    voice=FileLimits(("wav",), 2_000_000, seconds=(1.0, 5.0)), aspect=3.0, duration=(3, 12),
                    duration_with_video=(3, 9))
    defaults = ApiDefaults(model="double-1", resolution="720P", ratio="1:1", duration=6, prompt_extend=False,
                           watermark=True)
    resolutions = ("720P", "4K")
    ratios = ("21:9", "1:1")
    parameters = ("resolution", "duration", "watermark")
    regions = ("beijing", "hongkong")
    currency = "CNY"
    prices: Mapping[str, Mapping[str, float]] = {"beijing": {"720P": 0.25, "4K": 2.5}}
    prices_checked = "2026-12-01"
    billing_rule = "output-seconds"

    def naming(self, scene: ir.Scene) -> Naming:
        members = scene.references
        identifiers = {m.name: f"[{m.kind}#{n}]" for n, m in enumerate(members, start=1)}
        voices = {m.name: f"Sound {n}" for n, m in enumerate((m for m in members if m.voice), start=1)}
        return Naming(identifiers, {m.name: n for n, m in enumerate(members)}, voices)

    def payload_dict(self, scene: ir.Scene, prompt: str, naming: Naming) -> dict[str, object]:
        refs = [{"url": f"https://example.com/{name}"} for name in naming.identifiers]
        return {"model": self.name, "input": {"prompt": prompt, "refs": refs}}

    def media_slots(self, body: Mapping[str, object]) -> list[Slot]:
        refs = body["input"]["refs"]  # type: ignore[index]
        return [Slot(("input", "refs", n, "url"), "image", ref["url"]) for n, ref in enumerate(refs)]


class Unpriced(Double):
    name = "double-2"
    models = ("double-2",)
    capabilities = Double.capabilities._replace(voice=False, reference_video=False, first_frame=False,
                                                multi_shot_field=False, negative_prompt=True)
    currency = None
    prices: Mapping[str, Mapping[str, float]] = {}
    prices_checked = None


def rows(page: str) -> dict[str, list[str]]:
    """The table's rows by label: one cell per target."""
    found = {}
    for line in page.splitlines():
        if line.startswith("| ") and not line.startswith("| |"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            found[cells[0]] = cells[1:]
    return found


@pytest.fixture
def page(tmp_path: Path) -> str:
    notes = "# Double\n\nThe double's own notes.\n\n```\n# not a heading\n```\n\n## Open points\n"
    (tmp_path / "test_targets_doc.md").write_text(notes, encoding="utf-8")
    return gen_targets_doc.render([Double(), Unpriced()], notes=tmp_path)


def test_the_table_has_a_column_per_target(page: str) -> None:
    assert "| | `double-1` | `double-2` |" in page


def test_model_ids_status_and_sources(page: str) -> None:
    table = rows(page)
    assert table["model ids"][0] == "`double-1`, `double-1-2026-12-01`"
    assert table["status"] == ["preview", "preview"]
    assert table["sources"][0] == "this test's own reading"


def test_identifiers_come_from_the_targets_naming(page: str) -> None:
    table = rows(page)
    assert table["references and their identifiers"][0] == (
        "`input.refs[]`: ALICE → `[image#1]`, BOB → `[video#2]`, CAROL → `[image#3]`")
    # a target without reference videos is shown the scene with BOB as an image
    assert "BOB → `[image#2]`" in table["references and their identifiers"][1]


def test_voices_videos_and_first_frame(page: str) -> None:
    table = rows(page)
    assert table["voices"] == ["yes: ALICE's voice → `Sound 1`", "no (refused at its line)"]
    assert table["reference videos"] == ["yes, at most 2", "no (refused at its line)"]
    assert table["first frame"] == ["yes, but not with a cast (refused)", "no (refused at its line)"]


def test_capability_rows(page: str) -> None:
    table = rows(page)
    assert table["storyboard image"][0] == "no (refused at its line)"
    assert table["negative prompt"] == ["no (refused at its line)", "yes"]
    assert table["data URIs"][0] == "yes"
    assert table["multi-shot"] == ["a request field (the scene's timed shots)", "in the prompt"]


def test_limits_resolutions_ratios_defaults_regions(page: str) -> None:
    table = rows(page)
    assert table["limits"][0] == ("references 1–7; first frames ≤ 1; prompt ≤ 1234 characters; duration 3–12 s; "
                                  "3–9 s with a reference video")
    assert table["limits"][1] == ("references 1–7; prompt ≤ 1234 characters; negative prompt ≤ 500; "
                                  "duration 3–12 s")
    assert table["resolutions"][0] == "720P, 4K"
    assert table["ratios"][0] == "21:9, 1:1"
    assert table["defaults"][0] == "resolution 720P, duration 6, watermark on"
    assert table["regions"][0] == "beijing, hongkong"


def test_billing_and_prices(page: str) -> None:
    table = rows(page)
    assert table["billing rule"][0] == "`output-seconds`"
    assert table["prices"] == ["CNY per billable second; beijing: 720P 0.25, 4K 2.5 (checked 2026-12-01)",
                               "none published"]


def test_each_target_has_a_section_with_its_notes(page: str) -> None:
    assert "## `double-1`: A test double\n\n### Double\n\nThe double's own notes.\n" in page
    # the notes file is named after the target's module: both doubles live in this test module
    assert page.count("The double's own notes.") == 2


def test_notes_headings_go_under_the_targets_section(page: str) -> None:
    assert "\n#### Open points\n" in page and "\n## Open points" not in page
    assert "```\n# not a heading\n```" in page


def test_notes_whose_top_heading_is_level_two_start_at_level_three() -> None:
    assert gen_targets_doc.demoted(["## Kling", "text", "### Limits", "#hashtag"]) == [
        "### Kling", "text", "#### Limits", "#hashtag"]


def test_a_target_without_notes_shows_its_status_and_sources(tmp_path: Path) -> None:
    page = gen_targets_doc.render([Double()], notes=tmp_path)
    assert "## `double-1`: A test double\n\nStatus: preview. Sources: this test's own reading\n" in page


def test_choosing_a_target_names_every_way_to_choose(page: str) -> None:
    choosing = page.split("## Choosing a target", 1)[1]
    for way in ("`MODEL: <model id>`", "`--model <model id>`", "`model`", "`scenec cost --compare`"):
        assert way in choosing
