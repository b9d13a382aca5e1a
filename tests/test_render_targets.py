"""What the renderer and the bill ask a compile target: billing rules, media slots, effective parameters, the
body to send for a request shape other than wan2.7's, and the identity of an existing payload.

`UrlsTarget` below is a test double of the `Target` interface (a `reference_urls` body like wan2.6's, with
made-up prices): it lets the renderer's side of the contract be checked without any real target's module.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, field_validator

from compiler import ir
from compiler.api import compile_file, compile_text
from compiler.diagnostics import Diagnostic, make
from compiler.limits import ApiDefaults, FileLimits, Limits
from compiler.render.identity import (
    LocalMedia,
    MediaError,
    effective_payload,
    goes_inline,
    local_media,
    materialize,
    substitute,
)
from compiler.render.results import compare_costs, scene_cost
from compiler.render.upload import sha256_file
from compiler.targets import billing
from compiler.targets.base import Capabilities, Slot, Target
from compiler.targets.wan27 import Wan27

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"


# --- billing rules: the guide's and the reference's numbers ---------------------------------------


@pytest.mark.parametrize(("n", "limit"), [(1, 5.0), (2, 2.5), (4, 1.25), (5, 1.0)])
def test_wan27_cap_is_the_guide_table(n: int, limit: float) -> None:
    assert billing.input_video_cap("wan2.7", n, 5) == limit == billing.truncation_limit(n)


def test_wan27_three_videos_cap_is_exactly_5_over_3_not_the_tables_165() -> None:
    assert billing.truncation_limit(3) == pytest.approx(5 / 3) and billing.truncation_limit(3) > 1.65


def test_wan27_two_videos_and_an_image_bill_each_video_up_to_2_5_s() -> None:
    # The guide's example: the image is not counted in the cap (5 s / 2 videos).
    inputs, output = billing.billable_seconds("wan2.7", [4.0, 1.5], 3, 10)
    assert inputs == pytest.approx(2.5 + 1.5) and output == 10.0


def test_wan26_shares_5_s_among_all_references_images_included() -> None:
    # Two videos and an image: each video is billed at most 5 / 3 s, not 2.5 s as under wan2.7.
    inputs, output = billing.billable_seconds("wan2.6", [4.0, 1.5], 3, 10)
    assert inputs == pytest.approx(5 / 3 + 1.5) and output == 10.0
    assert billing.billable_seconds("wan2.6", [8.0], 1, 5) == (5.0, 5.0)
    assert billing.billable_seconds("wan2.6", [8.0], 5, 5) == (1.0, 5.0)  # one video, four images
    assert billing.billable_seconds("wan2.6", [], 3, 5) == (0.0, 5.0)      # images only: free


def test_output_rule_bills_the_output_only() -> None:
    assert billing.billable_seconds("output", [8.0, 30.0], 4, 15) == (0.0, 15.0)
    assert billing.input_video_cap("output", 2, 4) == 0.0


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_seconds_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        billing.billable_seconds("wan2.7", [bad], 1, 5)
    with pytest.raises(ValueError):
        billing.billable_seconds("wan2.7", [], 1, bad)


def test_unknown_rule_and_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown billing rule 'per-frame'"):
        billing.billable_seconds("per-frame", [], 1, 5)
    with pytest.raises(ValueError, match="videos"):
        billing.input_video_cap("wan2.6", 3, 2)
    with pytest.raises(ValueError):
        billing.truncation_limit(0)


@given(rule=st.sampled_from(sorted(billing.RULES)), durations=st.lists(st.floats(0, 60), max_size=5),
       images=st.integers(0, 5), output=st.integers(2, 15))
def test_no_rule_bills_more_than_5_s_of_input_nor_more_than_the_videos(
        rule: str, durations: list[float], images: int, output: int) -> None:
    inputs, billed_output = billing.billable_seconds(rule, durations, len(durations) + images, output)
    assert 0 <= inputs <= 5.0 + 1e-9 and inputs <= sum(durations) + 1e-9
    assert billed_output == output


# --- a test double of the interface: a reference_urls body --------------------------------------


class _UrlsBody(BaseModel):
    """The double's request model: unknown fields forbidden, and no local path (as sent: no LOCAL_CONTEXT)."""

    model_config = ConfigDict(extra="forbid")

    class _Input(BaseModel):
        model_config = ConfigDict(extra="forbid")
        prompt: str
        reference_urls: list[str]

        @field_validator("reference_urls")
        @classmethod
        def _urls_only(cls, urls: list[str]) -> list[str]:
            for url in urls:
                if not url.startswith(("https://", "http://", "oss://", "data:")):
                    raise ValueError(f"{url} is not a URL")
            return urls

    model: str
    input: _Input
    parameters: dict[str, Any] = {}


_MB = 1024 * 1024


class UrlsTarget(Target):
    """Like wan2.6: references in `input.reference_urls[]`, no data URIs, prices in a made-up currency."""

    name = "urls-double"
    models = ("urls-double",)
    title = "A reference_urls target (test double)"
    status = "official"
    sources = "tests"
    capabilities = Capabilities(voice=False, reference_video=True, max_reference_videos=3, first_frame=False,
                                first_frame_with_references=False, storyboard=False, negative_prompt=False,
                                prompt_extend=False, data_uri=False, seed=True, multi_shot_field=False)
    limits = Limits(max_references=5, min_references=1, max_first_frames=0, prompt_chars=1500,
                    negative_prompt_chars=0, image=FileLimits(("jpeg", "png"), 10 * _MB, sides=(300, 8000)),
                    video=FileLimits(("mp4",), 100 * _MB, seconds=(2.0, 30.0)), voice=FileLimits(("mp3",), _MB),
                    aspect=2.5, duration=(2, 10), duration_with_video=(2, 10))
    defaults = ApiDefaults(model="urls-double", resolution="720P", ratio="16:9", duration=5, prompt_extend=False,
                           watermark=True)
    resolutions = ("720P", "1080P")
    ratios = ("16:9",)
    parameters: tuple[str, ...] = ("resolution", "duration", "watermark", "seed")
    regions = ("beijing",)
    currency = "XTS"
    prices = MappingProxyType({"beijing": {"720P": 0.5, "1080P": 2.0}})
    prices_checked = "2026-12-03"
    billing_rule = "wan2.6"

    def media_slots(self, body: Mapping[str, object]) -> list[Slot]:
        urls = body["input"]["reference_urls"]  # type: ignore[index]
        return [Slot(("input", "reference_urls", index), "image", url) for index, url in enumerate(urls)]

    def request_model(self) -> type[BaseModel]:
        return _UrlsBody


class TypedTarget(UrlsTarget):
    """The same double with the contract's default slots: the typed-media shape `input.media[]`."""

    media_slots = Target.media_slots


URLS = UrlsTarget()
TYPED = TypedTarget()


def test_estimate_uses_the_targets_rule_prices_and_currency() -> None:
    scene = compile_text("DURATION: 10s\nRESOLUTION: 1080P\nCAST\nA: video https://x.test/a.mp4\n"
                         "B: image https://x.test/b.jpg\n\nA greets B.\n").scene
    assert scene is not None
    e = URLS.estimate(scene, [4.0], "Beijing ")
    # wan2.6's rule: one video among two references is billed at most 2.5 s.
    assert (e.input_video_seconds, e.output_seconds, e.billable_seconds) == (2.5, 10.0, 12.5)
    assert (e.price_per_second, e.currency, e.amount) == (2.0, "XTS", 25.0)
    unpriced = URLS.estimate(scene, [4.0], "singapore")
    assert (unpriced.billable_seconds, unpriced.price_per_second, unpriced.currency, unpriced.amount) == (
        12.5, None, None, None)
    assert URLS.estimate(scene, [4.0], None).amount is None


# --- the typed-media shape (the default) ---------------------------------------------------------


TYPED_BODY: dict[str, Any] = {
    "model": "m",
    "input": {"prompt": "media/a.jpg", "media": [
        {"type": "first_frame", "url": "media/f.png"},
        {"type": "reference_video", "url": "media/v.mp4", "reference_voice": "media/v.mp3"},
        {"type": "reference_image", "url": "https://x.test/i.jpg"},
        {"type": "reference_audio", "url": "media/a.wav"},
        {"type": "something_new", "url": "media/n.bin"},
        "not an entry",
    ]},
    "parameters": {"duration": 10},
}


def test_default_slots_read_every_url_and_voice_of_input_media_in_order() -> None:
    assert [tuple(slot) for slot in TYPED.media_slots(TYPED_BODY)] == [
        (("input", "media", 0, "url"), "first frame", "media/f.png"),
        (("input", "media", 1, "url"), "video", "media/v.mp4"),
        (("input", "media", 1, "reference_voice"), "voice", "media/v.mp3"),
        (("input", "media", 2, "url"), "image", "https://x.test/i.jpg"),
        (("input", "media", 3, "url"), "voice", "media/a.wav"),
        (("input", "media", 4, "url"), "other", "media/n.bin"),  # not dropped: it is uploaded
    ]


@pytest.mark.parametrize("body", [{}, {"input": None}, {"input": {"media": "x"}}, {"input": {"reference_urls": []}}])
def test_default_slots_of_a_body_without_typed_media_are_none(body: dict[str, Any]) -> None:
    assert TYPED.media_slots(body) == []


def test_effective_parameters_fill_the_targets_defaults_for_its_parameters_only() -> None:
    assert URLS.effective_parameters({"parameters": {"duration": 10, "seed": 3}}) == {
        "resolution": "720P", "duration": 10, "watermark": True, "seed": 3}


def test_effective_parameters_leave_ratio_out_with_a_first_frame() -> None:
    class WithRatio(UrlsTarget):
        parameters = ("resolution", "ratio", "duration")

    plain = {"input": {"media": [{"type": "reference_image", "url": "x"}]}}
    framed = {"input": {"media": [{"type": "first_frame", "url": "x"}]}, "parameters": {}}
    assert WithRatio().effective_parameters(plain) == {"resolution": "720P", "ratio": "16:9", "duration": 5}
    assert WithRatio().effective_parameters(framed) == {"resolution": "720P", "duration": 5}
    assert effective_payload(plain, WithRatio())["parameters"]["ratio"] == "16:9"


def test_substitute_replaces_the_slots_urls_and_nothing_else() -> None:
    body = substitute(TYPED_BODY, {"media/a.jpg": "oss://p", "media/v.mp3": "oss://voice", "media/n.bin": "oss://n"},
                      TYPED)
    media = body["input"]["media"]
    assert body["input"]["prompt"] == "media/a.jpg"  # text that looks like a path is not a slot
    assert (media[1]["reference_voice"], media[4]["url"], media[0]["url"]) == ("oss://voice", "oss://n", "media/f.png")
    assert TYPED_BODY["input"]["media"][1]["reference_voice"] == "media/v.mp3"  # the input is not changed


# --- a reference_urls body gets uploaded URLs ----------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SCENES / "media", tmp_path / "media")
    (tmp_path / "scenec.toml").write_text("")
    (tmp_path / "two.scene").write_text("CAST\nMAYA: video media/girl.mp4\nLEO: image media/boy.jpg\n"
                                        "CAFE: background image https://x.test/cafe.jpg\n\nMAYA greets LEO in CAFE.\n")
    return tmp_path


def _urls_body(scene: ir.Scene, compiled_payload: Mapping[str, Any]) -> dict[str, Any]:
    """The double's body for a compiled scene: the same references, as a plain list of URLs."""
    urls = [entry["url"] for entry in compiled_payload["input"]["media"]]
    return {"model": "urls-double", "input": {"prompt": compiled_payload["input"]["prompt"], "reference_urls": urls}}


def test_a_reference_urls_body_is_sent_with_uploaded_urls_never_local_paths(project: Path) -> None:
    compiled = compile_file(project / "two.scene")
    assert compiled.scene is not None and compiled.payload is not None
    body = _urls_body(compiled.scene, compiled.payload.model_dump(mode="json", exclude_none=True))
    assert body["input"]["reference_urls"] == ["media/girl.mp4", "media/boy.jpg", "https://x.test/cafe.jpg"]

    media = local_media(compiled.scene, body, URLS)
    assert [(m.ref, m.path, m.sha256) for m in media] == [
        ("media/girl.mp4", project / "media/girl.mp4", sha256_file(project / "media/girl.mp4")),
        ("media/boy.jpg", project / "media/boy.jpg", sha256_file(project / "media/boy.jpg"))]
    uploaded: list[str] = []

    def upload(item: LocalMedia) -> str:
        uploaded.append(item.ref)
        return f"oss://bucket/{item.sha256[:12]}"

    sent = materialize(body, media, upload, URLS)
    # No data URIs for this target: the small JPEG is uploaded too.
    assert uploaded == ["media/girl.mp4", "media/boy.jpg"]
    assert sent["input"]["reference_urls"] == [f"oss://bucket/{media[0].sha256[:12]}",
                                               f"oss://bucket/{media[1].sha256[:12]}", "https://x.test/cafe.jpg"]
    assert body["input"]["reference_urls"][0] == "media/girl.mp4"  # the compiled body is not changed


def test_a_slot_left_local_is_refused_before_anything_is_sent(project: Path) -> None:
    compiled = compile_file(project / "two.scene")
    assert compiled.scene is not None and compiled.payload is not None
    body = _urls_body(compiled.scene, compiled.payload.model_dump(mode="json", exclude_none=True))
    media = local_media(compiled.scene, body, URLS)
    with pytest.raises(MediaError, match="does not validate"):
        materialize(body, media[:1], lambda item: "oss://k", URLS)  # boy.jpg never replaced


def test_goes_inline_only_where_the_target_takes_data_uris_and_the_images_type(tmp_path: Path) -> None:
    small = tmp_path / "a.jpg"
    small.write_bytes(b"x" * 10)

    def image(mime: str, role: str = "image") -> LocalMedia:
        return LocalMedia("a.jpg", small, role, sha256_file(small), 10, mime)

    inline_target = UrlsTarget()
    inline_target.capabilities = URLS.capabilities._replace(data_uri=True)
    assert goes_inline(image("image/jpeg"), inline_target) and not goes_inline(image("image/jpeg"), URLS)
    assert goes_inline(image("image/png", "first frame"), inline_target)
    assert not goes_inline(image("image/bmp"), inline_target)  # not among this target's image formats
    assert not goes_inline(image("image/jpeg", "voice"), inline_target)


def test_the_bill_is_the_scenes_targets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler import targets

    scene = compile_file(project / "two.scene").scene
    assert scene is not None
    monkeypatch.setattr(targets, "target_of", lambda model: URLS)
    line = scene_cost(scene, "beijing")
    # girl.mp4 (3 s, measured) is billed min(3, 5 s / 3 references) under the double's wan2.6 rule.
    assert line.estimate.input_video_seconds == pytest.approx(5 / 3)
    assert line.estimate.amount == pytest.approx((5 / 3 + scene.settings.duration) * 2.0)  # 1080P
    assert (line.model, line.prices_checked, line.estimate.currency) == ("urls-double", "2026-12-03", "XTS")
    assert line.to_dict()["model"] == "urls-double" and not line.at_most
    assert "no published price for urls-double in region us" in scene_cost(scene, "us").text()


# --- every target's bill: --compare, --model ------------------------------------------------------


class NoVideoWan(Wan27):
    """A second registered target for the comparison: wan2.7's body, no reference video, output-only billing."""

    name = "wan-double"
    models = ("wan-double",)
    billing_rule = "output"
    currency = "XTS"
    prices = {"beijing": {"720P": 0.1, "1080P": 0.2}}  # noqa: RUF012 - as wan27's table is declared
    prices_checked = "2026-12-03"

    def refusals(self, scene: ir.Scene) -> list[Diagnostic]:
        return super().refusals(scene) + [
            make("unsupported-by-target", f"{member.name}: {self.name} takes no reference video", member.span,
                 path=member.path) for member in scene.references if member.kind == "video"]


@pytest.fixture
def two_targets(monkeypatch: pytest.MonkeyPatch) -> tuple[Target, ...]:
    """The registry with the double registered after wan2.7."""
    from compiler import targets

    double = NoVideoWan()
    monkeypatch.setattr(targets, "TARGETS", (*targets.TARGETS, double))
    monkeypatch.setitem(targets._BY_MODEL, double.name, double)
    monkeypatch.setitem(targets._BY_LOWER, double.name, double.name)
    return targets.TARGETS


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(SCENES / "media", tmp_path / "media")
    shutil.copy(SCENES / "scenec.toml", tmp_path)
    for name in ("alley", "first-frame"):
        shutil.copy(SCENES / f"{name}.scene", tmp_path)
    return tmp_path


def test_compare_prices_each_target_that_takes_the_scene_and_says_why_another_does_not(
        two_targets: tuple[Target, ...], example: Path) -> None:
    alley = compare_costs(example / "alley.scene", "beijing")
    assert [each.model for each in alley] == [target.name for target in two_targets]
    wan27, double = alley[0], alley[-1]
    assert wan27.line is not None and wan27.line.estimate.amount == pytest.approx(13.0)  # as `scenec cost` says
    assert double.line is None and [d.code for d in double.errors] == ["unsupported-by-target"]
    assert double.text() == "cannot take it: MAYA: wan-double takes no reference video (line 8)"
    assert double.to_dict()["refused"][0]["line"] == 8
    framed = compare_costs(example / "first-frame.scene", "beijing")[-1]
    assert framed.line is not None
    # The double's own rule (output only) and prices: 5 s at 720P, 0.1 XTS a second.
    assert framed.line.estimate.billable_seconds == 5.0 and framed.line.estimate.amount == pytest.approx(0.5)
    assert framed.line.text().endswith("= 0.50 XTS") and framed.to_dict()["model"] == "wan-double"


def test_cost_compare_and_model_on_the_command_line(two_targets: tuple[Target, ...], example: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler import targets
    from compiler.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main

    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    assert main(["cost", str(example), "--compare", "--region", "beijing"]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert f"{example / 'alley.scene'}: wan-double: cannot take it: MAYA: wan-double takes no reference video " \
           "(line 8)" in out
    assert any(line.startswith(f"{example / 'first-frame.scene'}: wan-double: 5 billable s") for line in out)
    assert len(out) == 2 * len(two_targets)
    assert main(["cost", str(example / "first-frame.scene"), "--model", "wan-double", "--region", "beijing",
                 "--json"]) == EXIT_OK
    assert '"model": "wan-double"' in capsys.readouterr().out
    assert main(["cost", str(example / "alley.scene"), "--model", "wan-double"]) == EXIT_ERRORS
    assert main(["cost", str(example), "--compare", "--budget", "3"]) == EXIT_USAGE
    monkeypatch.setattr(targets, "TARGETS", two_targets[-1:])  # only the double: nobody takes the alley
    assert main(["cost", str(example / "alley.scene"), "--compare"]) == EXIT_ERRORS


def test_the_url_check_and_the_reupload_read_the_targets_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler import targets
    from compiler.render.urlcheck import remote_urls

    monkeypatch.setitem(targets._BY_MODEL, URLS.name, URLS)
    monkeypatch.setitem(targets._BY_LOWER, URLS.name, URLS.name)
    body = {"model": "urls-double", "input": {"prompt": "https://not.a/slot.jpg", "reference_urls": [
        "https://a/x.jpg", "oss://dir/k", "media/local.jpg", "https://a/x.jpg"]}}
    assert remote_urls(body) == ["https://a/x.jpg"]
    assert remote_urls(body, schemes=("oss://",)) == ["oss://dir/k"]


# --- a model where its region does not serve it -----------------------------------------------------------


def test_render_plan_refuses_a_model_the_endpoints_region_does_not_serve(tmp_path: Path) -> None:
    from compiler.render.planning import RenderOptions, plan

    scene = tmp_path / "two.scene"
    scene.write_text("CAST\nLEO: image https://example.com/lead.png\n\nLEO waits.\n", encoding="utf-8")
    # happyhorse-1.0-r2v is served in Beijing and Singapore: not in the US, nor through a US workspace host.
    for base_url in ("https://dashscope-us.aliyuncs.com/api/v1", "https://ws-1.us-east-1.maas.aliyuncs.com/api/v1"):
        [refused] = plan([scene], RenderOptions(base_url=base_url, model="happyhorse-1.0-r2v"))
        assert refused.action == "invalid" and refused.job is None
        assert refused.problem == ("happyhorse-1.0-r2v is served only in beijing and singapore, not in us; "
                                   "pass --region beijing; nothing submitted")
    # Its own regions and an endpoint of no known region (a proxy, the test server) are not refused.
    for base_url in ("https://dashscope-intl.aliyuncs.com/api/v1", "http://127.0.0.1:9/api/v1"):
        [planned] = plan([scene], RenderOptions(base_url=base_url, model="happyhorse-1.0-r2v"))
        assert planned.action == "submit", planned.problem


def test_cost_says_when_the_region_does_not_serve_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli import main

    scene = tmp_path / "two.scene"
    scene.write_text("CAST\nLEO: image https://example.com/lead.png\n\nLEO waits.\n", encoding="utf-8")
    # An estimate still (no price there), with what render would say.
    assert main(["cost", str(scene), "--region", "us", "--model", "happyhorse-1.0-r2v"]) == 0
    out, err = capsys.readouterr()
    assert "happyhorse-1.0-r2v is served only in beijing and singapore, not in us; pass --region beijing; " \
           "render refuses it there" in err
    assert "no published price for happyhorse-1.0-r2v in region us" in out
    assert main(["cost", str(scene), "--region", "us", "--compare"]) == 0  # wan3.0-video is served there
    out = capsys.readouterr().out
    assert "happyhorse-1.0-r2v: not here: happyhorse-1.0-r2v is served only in beijing and singapore" in out
    assert "wan3.0-video: 5 billable s" in out


def test_a_budget_over_an_unpriced_model_says_it_cannot_be_shown_not_that_it_is_over(
        capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli import main

    assert main(["cost", str(SCENES / "panels.scene"), "--model", "wan3.0-video", "--budget", "100"]) == 1
    err = capsys.readouterr().err
    assert "cannot be shown within the budget of 100.00 CNY: no published price for wan3.0-video" in err
    assert "over the budget" not in err
    assert main(["cost", str(SCENES / "panels.scene"), "--budget", "1"]) == 1  # priced (wan2.7, Beijing): over
    assert "over the budget of 1.00 CNY" in capsys.readouterr().err


def test_compare_places_an_imported_cast_files_error_in_that_file(capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.cli import main

    assert main(["cost", str(SCENES / "night-shift.scene"), "--compare", "--region", "beijing"]) == 0
    [happyhorse] = [line for line in capsys.readouterr().out.splitlines() if ": happyhorse-1.0-r2v: " in line]
    assert "nova.jpg is 320x320" in happyhorse and "leads.cast:3)" in happyhorse  # not the scene's line 3
    assert main(["cost", str(SCENES / "night-shift.scene"), "--compare", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [refused] = [row for row in rows if row["model"] == "happyhorse-1.0-r2v"]
    assert refused["refused"][0]["path"].endswith("leads.cast") and refused["refused"][0]["line"] == 3
