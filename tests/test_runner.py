"""The pure steps of rendering: identity hashing, media materialization, cost lines and per-scene planning."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.api import compile_file
from compiler.render import journal as jr
from compiler.render.identity import (
    INLINE_IMAGE_MAX_BYTES,
    LocalMedia,
    MediaError,
    goes_inline,
    identity,
    local_media,
    materialize,
    shorten_data_uris,
    substitute,
)
from compiler.render.journal import Journal
from compiler.render.planning import RenderOptions, load_job, plan_job
from compiler.render.results import price_region, scene_cost
from compiler.render.upload import sha256_file
from compiler.targets.wan27 import request_models

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"
BASE = "https://dashscope.aliyuncs.com/api/v1"


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(SCENES / "media", root / "media")
    shutil.copy(SCENES / "scenec.toml", root)
    shutil.copy(SCENES / "alley.scene", root)
    return root


def item(path: Path, role: str, mime: str | None, ref: str | None = None) -> LocalMedia:
    return LocalMedia(ref or path.name, path, role, sha256_file(path), path.stat().st_size, mime)


def alley_job(proj: Path):
    job = load_job(proj / "alley.scene", output=None, region="beijing")
    assert not hasattr(job, "action"), job
    return job


# --- identity ----------------------------------------------------------------------------------


def test_identity_is_stable_and_ignores_key_order(proj: Path) -> None:
    first, second = alley_job(proj), alley_job(proj)
    assert first.identity == second.identity
    reordered = json.loads(json.dumps(first.payload), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert identity(reordered, first.media) == first.identity


def test_identity_follows_media_content_not_only_paths(proj: Path) -> None:
    before = alley_job(proj).identity
    (proj / "media" / "girl.mp3").write_bytes((proj / "media" / "boy.mp3").read_bytes() + b"\0")
    after = alley_job(proj).identity
    assert after.payload_sha256 == before.payload_sha256 and after.media_sha256 != before.media_sha256


def test_identity_follows_the_payload(proj: Path) -> None:
    job = alley_job(proj)
    changed = {**job.payload, "parameters": {**job.payload["parameters"], "seed": 7}}
    assert identity(changed, job.media).payload_sha256 != job.identity.payload_sha256


def test_local_media_lists_each_file_once_in_media_order(proj: Path) -> None:
    scene = compile_file(proj / "alley.scene").scene
    assert [(m.ref, m.role) for m in local_media(scene)] == [
        ("media/girl.mp4", "video"), ("media/girl.mp3", "voice"), ("media/boy.jpg", "image"),
        ("media/boy.mp3", "voice"), ("media/alley.jpg", "image")]


# --- materialize ---------------------------------------------------------------------------------


def test_goes_inline_only_for_small_images_of_accepted_types(tmp_path: Path) -> None:
    small = tmp_path / "a.jpg"
    small.write_bytes(b"x" * 10)
    assert goes_inline(item(small, "image", "image/jpeg"))
    assert goes_inline(item(small, "first frame", "image/png"))
    assert not goes_inline(item(small, "image", "image/gif"))
    assert not goes_inline(item(small, "video", "video/mp4"))
    assert not goes_inline(item(small, "voice", "audio/mpeg"))
    big = LocalMedia("b.jpg", small, "image", "0" * 64, INLINE_IMAGE_MAX_BYTES + 1, "image/jpeg")
    assert not goes_inline(big)


def test_materialize_inlines_images_uploads_video_and_audio_passes_remote_urls(proj: Path) -> None:
    job = alley_job(proj)
    remote = "https://cdn.example.com/extra.jpg"
    payload = json.loads(json.dumps(job.payload))
    payload["input"]["media"].append({"type": "reference_image", "url": remote})
    uploaded: list[str] = []

    def upload(media: LocalMedia) -> str:
        uploaded.append(media.ref)
        return f"oss://bucket/{media.sha256[:16]}-{media.path.name}"

    body = materialize(payload, job.media, upload)
    request_models().Payload.model_validate(body)  # as sent: no LOCAL_CONTEXT
    assert uploaded == ["media/girl.mp4", "media/girl.mp3", "media/boy.mp3"]
    video, boy, alley, extra = body["input"]["media"]
    assert video["url"].endswith("-girl.mp4") and video["reference_voice"].endswith("-girl.mp3")
    assert base64.b64decode(boy["url"].split(",", 1)[1]) == (proj / "media" / "boy.jpg").read_bytes()
    assert boy["url"].startswith("data:image/jpeg;base64,") and boy["reference_voice"].startswith("oss://")
    assert alley["url"].startswith("data:image/jpeg;base64,") and extra["url"] == remote
    assert body["input"]["prompt"] == payload["input"]["prompt"]


def test_materialize_refuses_media_changed_since_hashing(proj: Path) -> None:
    job = alley_job(proj)
    (proj / "media" / "boy.jpg").write_bytes(b"\xff\xd8 other bytes")
    with pytest.raises(MediaError, match="changed"):
        materialize(job.payload, job.media, lambda media: "oss://x/y")


def test_substitute_touches_only_media_urls() -> None:
    payload = {"input": {"prompt": "a.png", "media": [{"type": "reference_image", "url": "a.png"}]}}
    assert substitute(payload, {"a.png": "oss://k"}) == {
        "input": {"prompt": "a.png", "media": [{"type": "reference_image", "url": "oss://k"}]}}
    assert payload["input"]["media"][0]["url"] == "a.png"  # the input is not changed


def test_shorten_data_uris() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"12345").decode()
    short = shorten_data_uris({"media": [{"url": uri}, {"url": "oss://x"}], "n": 1})
    assert short["media"][0]["url"].startswith("data:image/png;base64,...(5 bytes, sha256 ")
    assert short["media"][1]["url"] == "oss://x" and short["n"] == 1


# --- cost --------------------------------------------------------------------------------------


def test_scene_cost_reads_video_lengths_and_marks_assumed_ones(proj: Path) -> None:
    (proj / "two.scene").write_text("DURATION: 10s\nCAST\nA: video media/girl.mp4\nB: video https://x.test/b.mp4\n\n"
                                    "A greets B.\n")
    line = scene_cost(compile_file(proj / "two.scene").scene, "beijing")
    assert (line.estimate.input_video_seconds, line.estimate.billable_seconds, line.at_most) == (5.0, 15.0, True)
    assert line.text().startswith("at most 15 billable s") and "15.00 CNY" in line.text()
    (proj / "two.scene").write_text("DURATION: 10s\nCAST\nA: video media/girl.mp4\n"
                                    "B: video https://x.test/b.mp4, 2s long\n\nA greets B.\n")
    line = scene_cost(compile_file(proj / "two.scene").scene, "us")
    assert (line.estimate.input_video_seconds, line.at_most, line.estimate.amount) == (4.5, False, None)
    assert "no published price for wan2.7-r2v in region us" in line.text()


def test_price_region() -> None:
    assert price_region(None, BASE) == "beijing"
    assert price_region(None, "http://127.0.0.1:9/api/v1") is None
    assert price_region("ap-southeast-1", BASE) == "singapore"


# --- planning ----------------------------------------------------------------------------------


def test_plan_job_decisions(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        assert plan_job(journal, job, force=False).action == "submit"
        rid = journal.prepare(job.key, job.identity.payload_sha256, "{}", job.identity.media_sha256)
        assert plan_job(journal, job, force=False).action == "reconcile"
        assert plan_job(journal, job, force=True).action == "submit"
        journal.mark_submitted(rid, "task-1", "rq-1")
        assert plan_job(journal, job, force=True).action == "resume_poll"  # never abandon a paid task
        journal.mark_succeeded(rid, "https://x.test/v.mp4", 0.0, None, {})  # its URL has already expired
        planned = plan_job(journal, job, force=False)
        assert planned.action == "blocked_lost" and journal.get(rid).state == jr.EXPIRED
        assert plan_job(journal, job, force=True).action == "submit"


def test_a_downloaded_video_that_is_gone_is_fetched_again_or_blocked(proj: Path) -> None:
    """Deleting a rendered video must not silently pay for it again: free re-fetch while the URL lives."""
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        rid = journal.prepare(job.key, job.identity.payload_sha256, "{}", job.identity.media_sha256)
        journal.mark_submitted(rid, "task-1", "rq-1")
        journal.mark_succeeded(rid, "https://x.test/v.mp4", 2e9, None, {})
        journal.mark_downloaded(rid, "renders/alley.mp4", 10, "0" * 64)   # no such file on disk
        assert plan_job(journal, job, force=False, now=1e9).action == "resume_download"
        planned = plan_job(journal, job, force=False, now=3e9)          # the URL has expired since
        assert planned.action == "blocked_lost" and "is gone" in _message(planned)
        assert plan_job(journal, job, force=True, now=3e9).action == "submit"


def test_a_task_the_service_forgot_is_blocked(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        rid = journal.prepare(job.key, job.identity.payload_sha256, "{}", job.identity.media_sha256)
        journal.mark_submitted(rid, "task-1", "rq-1")
        journal.mark_failed(rid, jr.EXPIRED, "UNKNOWN", "the service no longer knows the task")
        planned = plan_job(journal, job, force=False)
        assert planned.action == "blocked_lost" and "no longer knows" in _message(planned)
        assert plan_job(journal, job, force=True).action == "submit"


def _message(planned) -> str:
    from compiler.render.results import blocked_message

    return blocked_message(planned.previous)


def test_identity_depends_on_the_endpoint(proj: Path) -> None:
    job = alley_job(proj)
    beijing = identity(job.payload, job.media, "https://dashscope.aliyuncs.com/api/v1")
    singapore = identity(job.payload, job.media, "https://dashscope-intl.aliyuncs.com/api/v1")
    assert beijing.payload_sha256 != singapore.payload_sha256
    assert beijing.media_sha256 == singapore.media_sha256


def test_render_options_defaults() -> None:
    options = RenderOptions(base_url=BASE)
    assert (options.jobs, options.force, options.timeout) == (1, False, 1800.0)


def test_check_does_not_load_the_render_machinery(tmp_path: Path) -> None:
    """A lint on every save: no HTTP, display, parser-generator, template or request-model imports."""
    code = ("import sys; from compiler.cli import main; main(['check', sys.argv[1]]); "
            "print(sorted(m for m in ('httpx', 'rich', 'compiler.render.planning', 'compiler.render.execute', "
            "'compiler.render.commands', 'lark', "
            "'jinja2', 'pydantic') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(SCENES / "alley.scene")], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_display_is_rich_on_a_terminal_and_plain_lines_otherwise() -> None:
    import io

    from compiler.render.planning import Plan
    from compiler.render.progress import JsonDisplay, PlainDisplay, RichDisplay, make_display
    from compiler.render.results import SceneResult

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(make_display("auto", io.StringIO()), PlainDisplay)
    assert isinstance(make_display("json", io.StringIO()), JsonDisplay)
    screen = Terminal()
    display = make_display("auto", screen)
    assert isinstance(display, RichDisplay)
    display.begin([Plan("a.scene", "submit"), Plan("b.scene", "submit")])
    display.update("a.scene", "running", "task t-1")
    display.finish(SceneResult("a.scene", "rendered", "renders/a.mp4 (task t-1)"))
    display.close()
    assert "a.scene: rendered: renders/a.mp4" in screen.getvalue() and "b.scene" in screen.getvalue()
    plain = io.StringIO()
    lines = PlainDisplay(plain)
    lines.begin([Plan("a.scene", "submit"), Plan("b.scene", "submit")])
    lines.update("b.scene", "submitting")
    lines.update("b.scene", "submitting")  # unchanged: not printed again
    assert plain.getvalue().count("b.scene: submitting [1/2]") == 1


# --- sidecars, --adopt, reconcile and download checks ------------------------------------------------


def _downloaded(proj: Path, job, journal: Journal, task_id: str = "task-1") -> None:
    """A rendered scene: its row, its video and a sidecar as the runner writes them."""
    from tests.fakescope import make_mp4

    video = make_mp4(10.0)
    job.output.parent.mkdir(parents=True, exist_ok=True)
    job.output.write_bytes(video)
    rid = journal.prepare(job.key, job.identity.payload_sha256, "{}", job.identity.media_sha256)
    journal.mark_submitted(rid, task_id, "req")
    journal.mark_succeeded(rid, "https://v.invalid/x.mp4", 10**10, None, {})
    journal.mark_downloaded(rid, "renders/alley.mp4", len(video), sha256_file(job.output))
    job.sidecar.write_text(json.dumps({
        "task_id": task_id, "request_id": "req", "payload": {"model": "wan2.7-r2v"}, "video_bytes": len(video),
        "video_sha256": sha256_file(job.output), "payload_sha256": job.identity.payload_sha256,
        "media_sha256": job.identity.media_sha256}))


def test_a_sidecar_beside_its_video_stands_for_a_lost_journal(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        _downloaded(proj, job, journal)
    shutil.rmtree(proj / ".scenec")
    with Journal.open(job.journal_path) as journal:
        planned = plan_job(journal, job, force=False)
        assert planned.action == "skip" and planned.previous.code == "Restored"
        assert planned.previous.task_id == "task-1"
        assert plan_job(journal, job, force=True).action == "submit"
        assert plan_job(journal, job, force=False).action == "skip"  # the restored row, not a second one
        assert len(journal.all()) == 1


def test_a_sidecar_without_its_video_adopts_its_task(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        _downloaded(proj, job, journal, "task-9")
    shutil.rmtree(proj / ".scenec")
    job.output.unlink()
    with Journal.open(job.journal_path) as journal:
        planned = plan_job(journal, job, force=False)
        assert (planned.action, planned.adopt, planned.previous) == ("adopt", "task-9", None)


def test_a_sidecar_of_another_identity_is_ignored(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        _downloaded(proj, job, journal)
    shutil.rmtree(proj / ".scenec")
    meta = json.loads(job.sidecar.read_text())
    job.sidecar.write_text(json.dumps({**meta, "payload_sha256": "0" * 64}))
    with Journal.open(job.journal_path) as journal:
        assert plan_job(journal, job, force=False).action == "submit"


def test_adopt_is_planned_only_for_an_unknown_or_absent_submit(proj: Path) -> None:
    job = alley_job(proj)
    with Journal.open(job.journal_path) as journal:
        assert plan_job(journal, job, force=False, adopt="t-1").action == "adopt"
        rid = journal.prepare(job.key, job.identity.payload_sha256, "{}", job.identity.media_sha256)
        journal.mark_unknown_submit(rid, "reset", "ReadError")
        planned = plan_job(journal, job, force=False, adopt="t-1")
        assert (planned.action, planned.previous.id, planned.adopt) == ("adopt", rid, "t-1")
        journal.adopt(rid, "t-0", "found")
        refused = plan_job(journal, job, force=False, adopt="t-1")
        assert refused.action == "invalid" and "not an unknown submit" in refused.problem


def test_service_times_are_utc_plus_8_both_ways() -> None:
    from compiler.render.reconcile import parse_service_time, service_time

    assert service_time(0) == "19700101080000"
    assert parse_service_time("1970-01-01 08:00:00.000") == 0
    assert parse_service_time("19700101080001") == 1
    assert parse_service_time("2026-12-03 10:00:00") == parse_service_time("2026-12-03T10:00:00.5")
    for junk in (None, "", "yesterday", "2026-12-03", "12:00:00"):
        assert parse_service_time(junk) is None


def _row(state: str, created: float, updated: float, prompt: str = "p", rid: int = 1) -> jr.Render:
    return jr.Render(rid, "a.scene", "h", None, json.dumps({"input": {"prompt": prompt}}), state, None, None, None,
                     None, None, None, None, None, None, None, None, created, None, None, None, updated)


def test_the_lookup_window_spans_the_intent_to_the_lost_answer() -> None:
    from compiler.render.reconcile import LOOKUP_MARGIN_S, PREPARED_SEND_WINDOW_S, lookup_window, overlaps

    unknown = _row(jr.UNKNOWN_SUBMIT, 1000.0, 1010.0)
    assert lookup_window(unknown, now=5000.0) == (1000.0 - LOOKUP_MARGIN_S, 1010.0 + LOOKUP_MARGIN_S)
    prepared = _row(jr.PREPARED, 1000.0, 1000.0)
    assert lookup_window(prepared, now=10**6)[1] == 1000.0 + PREPARED_SEND_WINDOW_S + LOOKUP_MARGIN_S
    assert lookup_window(prepared, now=1100.0)[1] == 1100.0 + LOOKUP_MARGIN_S  # never past now
    assert overlaps(unknown, _row(jr.UNKNOWN_SUBMIT, 1200.0, 1201.0, rid=2), now=5000.0)
    assert not overlaps(unknown, _row(jr.UNKNOWN_SUBMIT, 9000.0, 9001.0, rid=2), now=10**4)


def test_a_listed_task_matches_on_model_window_and_ownership() -> None:
    from compiler.render.client import TaskSummary
    from compiler.render.reconcile import matches, service_time

    window = (1000.0, 2000.0)

    def at(ts: float) -> str:
        text = service_time(ts)
        return f"{text[:4]}-{text[4:6]}-{text[6:8]} {text[8:10]}:{text[10:12]}:{text[12:]}.000"

    assert matches(TaskSummary("a", "RUNNING", at(1500), "wan2.7-r2v"), "wan2.7-r2v", window, set())
    assert matches(TaskSummary("a", "RUNNING", None, None), "wan2.7-r2v", window, set())
    assert not matches(TaskSummary("a", "RUNNING", at(1500), "wan2.7-r2v"), "wan2.7-r2v", window, {"a"})
    assert not matches(TaskSummary("a", "RUNNING", at(1500), "wan2.6-r2v"), "wan2.7-r2v", window, set())
    assert not matches(TaskSummary("a", "RUNNING", at(2500), "wan2.7-r2v"), "wan2.7-r2v", window, set())


def test_video_problem_accepts_only_a_whole_mp4(tmp_path: Path) -> None:
    from compiler.render.fetch import video_problem
    from tests.fakescope import make_mp4

    good = make_mp4(5.0)
    cases = {"good.mp4": good, "html.mp4": b"<!DOCTYPE html><html>sign in</html>", "cut.mp4": good[: len(good) - 10],
             "head.mp4": good[:64], "padded.mp4": good + b"junk after the last box", "empty.mp4": b""}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    assert video_problem(tmp_path / "good.mp4") is None
    for name in cases.keys() - {"good.mp4"}:
        assert video_problem(tmp_path / name), name


class _ForgettingService:
    """A client whose download is refused and whose task is no longer known."""

    def __init__(self) -> None:
        self.downloads = 0

    def download(self, url, dest, verify=None):
        from compiler.render.errors import DashScopeError

        self.downloads += 1
        raise DashScopeError("HTTP 403: the result URL has expired", code="UrlExpired")

    def query(self, task_id):
        from compiler.render.client import TaskState

        return TaskState(task_id, "UNKNOWN", None, None, None, None, None, None, None, None, {})


@pytest.mark.parametrize(("age", "expected"), [(3600.0, "DownloadPending"), (2 * 86400.0, "TaskGone")])
def test_a_refused_download_waits_for_the_next_run_unless_the_task_is_past_its_life(tmp_path: Path, age: float,
                                                                                      expected: str) -> None:
    from compiler.render import fetch

    clock = [10**7]
    with Journal.open(tmp_path / ".scenec" / "journal.sqlite3", clock=lambda: clock[0]) as journal:
        rid = journal.prepare("a.scene", "p", "{}", None)
        journal.mark_submitted(rid, "task-1", None)
        journal.mark_succeeded(rid, "https://v.invalid/x.mp4", clock[0] + 86400, None, {})
        service = _ForgettingService()
        with pytest.raises(fetch.DownloadPending if expected == "DownloadPending" else fetch.TaskGone):
            fetch.download_verified(service, journal, journal.get(rid), tmp_path / "out.mp4",  # type: ignore[arg-type]
                                    sleep=lambda s: None, now=lambda: clock[0] + age)
        assert journal.get(rid).state == ("SUCCEEDED" if expected == "DownloadPending" else "EXPIRED")
        assert not (tmp_path / "out.mp4").exists() and service.downloads >= 1


def test_a_parameter_left_to_its_default_is_the_same_render_as_one_sent_explicitly() -> None:
    # Scenes rendered when scenec still sent every default keep their identity: never paid for twice.
    from compiler.render.identity import identity

    media = [{"type": "reference_image", "url": "media/girl.jpg"}]
    sent_defaults = {"model": "wan2.7-r2v", "input": {"prompt": "Image 1 waits.", "media": media},
                     "parameters": {"resolution": "1080P", "ratio": "16:9", "duration": 10, "prompt_extend": False,
                                    "watermark": False}}
    left_out = {"model": "wan2.7-r2v", "input": {"prompt": "Image 1 waits.", "media": media},
                "parameters": {"duration": 10, "prompt_extend": False}}
    other_ratio = {**left_out, "parameters": {**left_out["parameters"], "ratio": "9:16"}}
    endpoint = "https://dashscope.aliyuncs.com/api/v1"
    assert identity(sent_defaults, [], endpoint) == identity(left_out, [], endpoint)
    assert identity(other_ratio, [], endpoint) != identity(left_out, [], endpoint)
