"""`scenec render`, `cost`, `status` and `cancel` end to end against the loopback FakeDashScope (never the internet)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import targets
from compiler.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, main
from compiler.render import client as client_module
from compiler.targets.wan27 import request_models
from tests.fakescope import FakeDashScope

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"
KEY = "sk-e2e-SECRET-0123456789abcdef"
ALLEY = (SCENES / "alley.scene").read_text(encoding="utf-8")
TWO_VIDEOS = """DURATION: 10s
CAST
MAYA: video media/girl.mp4
WANG: video media/laowang.mp4

MAYA waves at WANG.
"""


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def fake(fake_servers) -> Callable[..., FakeDashScope]:
    """FakeDashScope servers (conftest stops them); each logs to its own `log_text` buffer."""

    def start(**options) -> FakeDashScope:
        options.setdefault("generation_delay", 0.3)
        log = io.StringIO()
        server = fake_servers(api_key=KEY, log=log, **options)
        server.log_text = log  # type: ignore[attr-defined]
        return server

    return start


@pytest.fixture
def server(fake, monkeypatch) -> FakeDashScope:
    """A fast fake server, the key and base URL in the environment, and polls every 50 ms instead of 1-5 s."""
    started = fake()
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", started.base_url)
    monkeypatch.setattr(client_module, "next_poll_interval", lambda index, hint: 0.05)
    monkeypatch.setattr(client_module, "throttle_pause", lambda consecutive: 0.05)
    return started


def project(tmp_path: Path, scenes: dict[str, str] | None = None) -> Path:
    """A copy of the example project's media and config with the given scenes (alley by default)."""
    root = tmp_path / "proj"
    shutil.copytree(SCENES / "media", root / "media")
    shutil.copy(SCENES / "scenec.toml", root / "scenec.toml")
    for name, text in (scenes or {"alley.scene": ALLEY}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def seeded(seed: int) -> str:
    """The alley scene with a seed: another payload with the same media."""
    return ALLEY.replace("DURATION: 10s", f"DURATION: 10s\nSEED: {seed}")


def scenec(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(root: Path) -> list[dict]:
    with sqlite3.connect(root / ".scenec" / "journal.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM renders ORDER BY id")]


def count(server: FakeDashScope, method: str, path_part: str) -> int:
    return sum(1 for m, path, _ in server.requests if m == method and path_part in path)


def journal_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (root / ".scenec").iterdir() if p.is_file())


# --- one scene --------------------------------------------------------------------------------


def test_render_end_to_end_writes_video_sidecar_and_journal(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    code, out, err = scenec(capsys, "render", str(root / "alley.scene"), "--region", "beijing")
    assert code == EXIT_OK, out + err
    video, sidecar = root / "renders" / "alley.mp4", root / "renders" / "alley.json"
    assert video.read_bytes() == server.video_for(server.task_ids[0])
    meta = json.loads(sidecar.read_text())
    assert meta["task_id"] == server.task_ids[0] and meta["request_id"] and meta["scene"] == "alley.scene"
    assert meta["usage"]["duration"] == 13 and meta["cost_estimate"]["billable_seconds"] == 13
    assert meta["cost_estimate"]["amount"] == pytest.approx(13.0)
    assert "submit_time" in meta["timings"] and "downloaded_at" in meta["timings"]
    assert "...(823 bytes, sha256" in json.dumps(meta["payload"])  # data URIs shortened
    assert "13 billable s" in out and "13.00 CNY" in out and "rendered" in out
    [row] = rows(root)
    assert row["state"] == "DOWNLOADED" and row["output_path"] == "renders/alley.mp4"
    # What was sent validates as sent (no LOCAL_CONTEXT): small images inline, video and voices uploaded.
    [body] = server.submissions
    request_models().Payload.model_validate(body)
    media = body["input"]["media"]
    assert media[0]["url"].startswith("oss://") and media[0]["reference_voice"].startswith("oss://")
    assert media[1]["url"].startswith("data:image/jpeg;base64,") and media[2]["url"].startswith("data:image/jpeg")
    # The key is nowhere but in the Authorization headers.
    for text in (out, err, sidecar.read_text(), json.dumps(server.submissions), server.log_text.getvalue()):
        assert KEY not in text
    assert KEY.encode() not in journal_bytes(root)


def test_uploads_are_asked_for_and_cached_under_the_bodys_model(server, tmp_path, capsys) -> None:
    # The dated snapshot is another model to the service: its temporary storage is asked for by that name, and
    # an upload made for the undated model is not reused for it.
    root = project(tmp_path, {"alley.scene": ALLEY, "dated.scene": "MODEL: wan2.7-r2v-2026-06-12\n" + ALLEY})
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    assert scenec(capsys, "render", str(root / "dated.scene"))[0] == EXIT_OK
    policies = [path for method, path, _ in server.requests if method == "GET" and "getPolicy" in path]
    assert len(policies) == 2
    assert "model=wan2.7-r2v&" in policies[0] + "&" and "model=wan2.7-r2v-2026-06-12" in policies[1]
    assert count(server, "POST", "/oss") == 6  # three files each, once per model
    assert [body["model"] for body in server.submissions] == ["wan2.7-r2v", "wan2.7-r2v-2026-06-12"]


def test_model_on_the_command_line_is_rendered_and_is_another_render(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    code, out, err = scenec(capsys, "render", str(root / "alley.scene"), "--model", "wan2.7-r2v-2026-06-12")
    assert code == EXIT_OK and "rendered" in out, out + err  # not "unchanged": another model is another render
    assert [body["model"] for body in server.submissions] == ["wan2.7-r2v", "wan2.7-r2v-2026-06-12"]
    assert scenec(capsys, "render", str(root / "alley.scene"), "--model", "no-such-model")[0] == EXIT_USAGE
    assert len(server.submissions) == 2


TWO_IMAGES = ("DURATION: 5s\nCAST\nLEO: image media/lead.png\nSET: background image media/set.png\n\n"
              "LEO waits in SET.\n")


def png(width: int, height: int, shade: int) -> bytes:
    """A valid grey PNG of that size (the example images are too small for some targets' limits)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("model", [target.name for target in targets.TARGETS])
def test_render_end_to_end_on_every_target(model: str, server, tmp_path, capsys) -> None:
    """Each registered target's body goes out with its media slots filled (no local path) and is rendered."""
    target = targets.target_of(model)
    root = project(tmp_path, {"two.scene": TWO_IMAGES})
    (root / "media" / "lead.png").write_bytes(png(640, 480, 90))
    (root / "media" / "set.png").write_bytes(png(800, 600, 200))
    code, out, err = scenec(capsys, "render", str(root / "two.scene"), "--model", model)
    assert code == EXIT_OK and "rendered" in out, out + err
    [body] = server.submissions
    assert body["model"] == model
    target.request_model().model_validate(body)  # as sent: no LOCAL_CONTEXT
    sent = [slot.url for slot in target.media_slots(body)]
    assert len(sent) == 2 and all(url.startswith(("data:", "oss://")) for url in sent), sent
    assert all(url.startswith("oss://") for url in sent) or target.capabilities.data_uri
    assert (root / "renders" / "two.mp4").read_bytes() == server.video_for(server.task_ids[0])


def test_rerun_does_nothing_and_force_renders_again_reusing_uploads(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    uploads = count(server, "POST", "/oss")
    assert uploads == 3  # girl.mp4, girl.mp3, boy.mp3; the two images went inline
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_OK and "unchanged" in out and len(server.submissions) == 1
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"), "--force")
    assert code == EXIT_OK and "rendered" in out
    assert len(server.submissions) == 2 and count(server, "POST", "/oss") == uploads  # cache by content hash
    assert server.submissions[0] == server.submissions[1]
    assert [r["state"] for r in rows(root)] == ["DOWNLOADED", "DOWNLOADED"]


def test_changed_media_content_renders_again(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    with open(root / "media" / "boy.mp3", "ab") as handle:
        handle.write(b"\0" * 16)  # same path, other bytes
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    assert len(server.submissions) == 2 and count(server, "POST", "/oss") == 4


def test_output_option_and_copy_of_an_unchanged_render(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    first, second = tmp_path / "out" / "a.mp4", tmp_path / "out" / "b.mp4"
    assert scenec(capsys, "render", str(root / "alley.scene"), "-o", str(first))[0] == EXIT_OK
    assert first.exists() and (tmp_path / "out" / "a.json").exists() and not (root / "renders").exists()
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"), "-o", str(second))
    assert code == EXIT_OK and "unchanged" in out and second.read_bytes() == first.read_bytes()
    assert len(server.submissions) == 1


def test_missing_key_is_a_usage_error(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    code, _, err = scenec(capsys, "render", str(project(tmp_path) / "alley.scene"))
    assert code == EXIT_USAGE and "DASHSCOPE_API_KEY" in err


def test_unreachable_media_fails_before_anything_is_sent(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    (root / "media" / "girl.mp4").unlink()
    code, out, err = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_ERRORS and "file-missing" in err and "nothing submitted" in out
    assert server.requests == []


def test_upload_failure_fails_before_submit(server, tmp_path, capsys, monkeypatch) -> None:
    root = project(tmp_path)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-not-the-right-key-42")  # the upload policy answers 401
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_ERRORS and "upload of media/girl.mp4 failed" in out and "nothing submitted" in out
    assert count(server, "POST", "video-synthesis") == 0 and rows(root) == []


# --- interruptions and unknown outcomes --------------------------------------------------------


def test_kill_9_mid_poll_then_rerun_submits_once_and_downloads_once(fake, tmp_path) -> None:
    server = fake(generation_delay=4.0)
    root = project(tmp_path)
    env = {**os.environ, "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_HTTP_BASE_URL": server.base_url}
    command = [sys.executable, "-m", "compiler", "render", str(root / "alley.scene")]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not (root / ".scenec" / "journal.sqlite3").exists() or not rows(root) or \
                rows(root)[0]["state"] not in ("SUBMITTED", "PENDING", "RUNNING"):
            assert time.monotonic() < deadline and first.poll() is None, "never reached SUBMITTED"
            time.sleep(0.05)
    finally:
        first.kill()  # SIGKILL: no cleanup of any kind
        first.communicate()
    assert len(server.submissions) == 1 and not (root / "renders" / "alley.mp4").exists()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert len(server.submissions) == 1 and count(server, "GET", "/download/") == 1
    assert (root / "renders" / "alley.mp4").read_bytes() == server.video_for(server.task_ids[0])
    assert [r["state"] for r in rows(root)] == ["DOWNLOADED"]
    assert KEY not in done.stdout + done.stderr


def test_unknown_submit_is_reported_then_adopted_by_the_rerun(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    server.inject("submit", "drop_after")  # the task is created, the answer never arrives
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_ERRORS and "UNKNOWN_SUBMIT" in out and "task list" in out and "--adopt" in out
    assert len(server.submissions) == 1 and rows(root)[0]["state"] == "UNKNOWN_SUBMIT"
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_OK and len(server.submissions) == 1
    [row] = rows(root)
    assert (row["state"], row["task_id"], row["code"]) == ("DOWNLOADED", server.task_ids[0], "Adopted")
    assert (root / "renders" / "alley.mp4").read_bytes() == server.video_for(server.task_ids[0])


def test_deadline_leaves_the_task_journaled_and_a_rerun_resumes_it(fake, server, tmp_path, capsys,
                                                                    monkeypatch) -> None:
    slow = fake(generation_delay=1.5)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", slow.base_url)
    root = project(tmp_path)
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"), "--timeout", "0.2")
    assert code == EXIT_ERRORS and "run the same command again to resume" in out
    assert rows(root)[0]["state"] in ("SUBMITTED", "PENDING", "RUNNING")
    assert scenec(capsys, "render", str(root / "alley.scene"))[0] == EXIT_OK
    assert len(slow.submissions) == 1 and rows(root)[0]["state"] == "DOWNLOADED"


# --- failures ---------------------------------------------------------------------------------


def test_failed_task_is_reported_with_its_code(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    server.inject("submit", "fail", code="DataInspectionFailed", message="The output may contain sensitive content.")
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_ERRORS and "FAILED" in out and "DataInspectionFailed" in out
    assert rows(root)[0]["state"] == "FAILED" and rows(root)[0]["code"] == "DataInspectionFailed"
    assert not (root / "renders" / "alley.mp4").exists()


def test_an_expired_url_is_replaced_by_a_fresh_one_from_the_task(server, tmp_path, capsys) -> None:
    root = project(tmp_path)
    server.inject("download", "expire")
    code, out, _ = scenec(capsys, "render", str(root / "alley.scene"))
    assert code == EXIT_OK, out
    assert rows(root)[0]["state"] == "DOWNLOADED" and len(server.submissions) == 1
    assert (root / "renders" / "alley.mp4").read_bytes() == server.video_for(server.task_ids[0])


def test_budget_refusal_submits_nothing(server, tmp_path, capsys) -> None:
    root = project(tmp_path, {"alley.scene": ALLEY, "two.scene": TWO_VIDEOS})
    code, out, err = scenec(capsys, "render", str(root), "--budget", "20", "--region", "beijing")
    assert code == EXIT_ERRORS and "refused" in err and "28.00 CNY" in err and "nothing was submitted" in err
    assert "13.00 CNY" in out and "15.00 CNY" in out
    assert server.requests == []
    assert scenec(capsys, "render", str(root), "--budget", "30", "--region", "beijing")[0] == EXIT_OK


def test_budget_without_a_known_price_refuses(server, tmp_path, capsys) -> None:
    code, _, err = scenec(capsys, "render", str(project(tmp_path) / "alley.scene"), "--budget", "100")
    assert code == EXIT_ERRORS and "no known price" in err and server.requests == []


# --- batches ----------------------------------------------------------------------------------


def test_throttled_batch_with_two_workers_completes(server, tmp_path, capsys) -> None:
    scenes = {f"s{n}.scene": seeded(n) for n in range(1, 5)}
    root = project(tmp_path, scenes)
    server.inject("submit", "throttle", times=3)
    server.inject("task", "throttle", times=4)
    server.inject("policy", "throttle", times=1)
    code, out, err = scenec(capsys, "render", str(root), "-j", "2", "--json")
    assert code == EXIT_OK, out + err
    results = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["scene"] for r in results) == sorted(str(root / name) for name in scenes)
    assert all(r["outcome"] == "rendered" and r["ok"] and r["task_id"] for r in results)
    assert len(server.submissions) == 4 and count(server, "POST", "/oss") == 3  # shared media uploaded once
    assert all((root / "renders" / f"s{n}.mp4").exists() for n in range(1, 5))
    assert count(server, "POST", "video-synthesis") == 4 + 3  # every throttled submit was retried


def test_two_scenes_sharing_a_video_upload_it_once_and_a_forced_rerun_reuses_it(server, tmp_path, capsys) -> None:
    root = project(tmp_path, {"a.scene": seeded(1), "b.scene": seeded(2)})
    assert scenec(capsys, "render", str(root), "-j", "2")[0] == EXIT_OK
    keys = [k for k in server.uploads if k.endswith("girl.mp4")]
    assert len(keys) == 1 and count(server, "POST", "/oss") == 3
    assert scenec(capsys, "render", str(root / "a.scene"), "--force")[0] == EXIT_OK
    assert count(server, "POST", "/oss") == 3 and len(server.submissions) == 3
    assert server.submissions[2]["input"]["media"][0]["url"] == f"oss://{keys[0]}"


def test_identical_scenes_in_one_batch_pay_once(server, tmp_path, capsys) -> None:
    root = project(tmp_path, {"a.scene": ALLEY, "b.scene": ALLEY})
    code, _out, _ = scenec(capsys, "render", str(root), "-j", "2")
    assert code == EXIT_OK and len(server.submissions) == 1
    assert (root / "renders" / "a.mp4").read_bytes() == (root / "renders" / "b.mp4").read_bytes()


def test_budget_counts_identical_scenes_once(server, tmp_path, capsys) -> None:
    """Two copies of a 13 CNY scene are paid once: a budget of 20 CNY lets the batch through."""
    root = project(tmp_path, {"a.scene": ALLEY, "b.scene": ALLEY})
    code, out, err = scenec(capsys, "render", str(root), "--region", "beijing", "--budget", "20")
    assert code == EXIT_OK, out + err
    assert len(server.submissions) == 1


# --- cost, status, cancel ------------------------------------------------------------------------


def test_cost_of_a_scene_with_two_videos(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    root = project(tmp_path, {"two.scene": TWO_VIDEOS})
    code, out, _ = scenec(capsys, "cost", str(root / "two.scene"))
    # girl.mp4 and laowang.mp4 are 3 s each: min(3, 5/2) + min(3, 5/2) = 5, plus 10 s of output.
    assert code == EXIT_OK and "15 billable s (5 s reference video + 10 s output)" in out and "15.00 CNY" in out
    assert "at most" not in out
    code, out, _ = scenec(capsys, "cost", str(root / "two.scene"), "--json", "--region", "singapore")
    figures = json.loads(out)
    assert figures["billable_seconds"] == 15 and figures["amount"] == pytest.approx(15 * 1.100886)
    (root / "three.scene").write_text(TWO_VIDEOS.replace("CAST\n", "CAST\nRIO: video https://example.com/r.mp4\n"))
    code, out, _ = scenec(capsys, "cost", str(root / "three.scene"))
    assert "at most 15 billable s" in out  # RIO's length unknown: the 5/3 cap assumed
    assert scenec(capsys, "cost", str(root), "--budget", "20")[0] == EXIT_ERRORS


def test_status_and_cancel(fake, server, tmp_path, capsys, monkeypatch) -> None:
    waiting = fake(generation_delay=30.0, pending_time=30.0)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", waiting.base_url)
    root = project(tmp_path)
    scene = str(root / "alley.scene")
    assert scenec(capsys, "render", scene, "--timeout", "0.1")[0] == EXIT_ERRORS
    code, out, _ = scenec(capsys, "status", str(root))
    assert code == EXIT_OK and "alley.scene" in out and "PENDING" in out and waiting.task_ids[0] in out
    code, out, _ = scenec(capsys, "cancel", scene)
    assert code == EXIT_OK and "cancelled" in out
    assert waiting.task(waiting.task_ids[0])["task_status"] == "CANCELED"
    code, out, _ = scenec(capsys, "status", scene, "--json")
    assert json.loads(out)["state"] == "CANCELED"
    code, _, err = scenec(capsys, "cancel", scene)
    assert code == EXIT_ERRORS and "no task of this scene is in flight" in err


def test_cancel_of_a_running_task_is_refused(fake, server, tmp_path, capsys, monkeypatch) -> None:
    running = fake(generation_delay=30.0, pending_time=0.0)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", running.base_url)
    scene = str(project(tmp_path) / "alley.scene")
    assert scenec(capsys, "render", scene, "--timeout", "0.1")[0] == EXIT_ERRORS
    code, _, err = scenec(capsys, "cancel", scene)
    assert code == EXIT_ERRORS and "RUNNING: only PENDING tasks can be cancelled" in err


def test_status_without_a_journal(tmp_path, capsys) -> None:
    code, out, _ = scenec(capsys, "status", str(tmp_path))
    assert code == EXIT_OK and "no renders journaled" in out
    assert not (tmp_path / ".scenec").exists()


@pytest.fixture
def media_host(tmp_path):
    """A plain static HTTP server on loopback standing in for a CDN that holds remote media."""
    import functools
    import http.server
    import threading

    folder = tmp_path / "cdn"
    folder.mkdir()
    shutil.copy(SCENES / "media" / "boy.jpg", folder / "boy.jpg")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_remote_media_is_reached_before_submitting(server, media_host, tmp_path, capsys) -> None:
    good = ALLEY.replace("image media/boy.jpg", f"image {media_host}/boy.jpg")
    bad = ALLEY.replace("image media/boy.jpg", f"image {media_host}/gone.jpg")
    assert good != ALLEY and bad != ALLEY
    root = project(tmp_path, {"good.scene": good, "bad.scene": bad})
    code, out, _ = scenec(capsys, "render", str(root / "good.scene"))
    assert code == EXIT_ERRORS and "loopback" in out and server.submissions == []  # refused unless allowed:
    with (root / "scenec.toml").open("a", encoding="utf-8") as config:
        config.write('\n[network]\nallow_hosts = ["127.0.0.1"]\n')
    code, out, _ = scenec(capsys, "render", str(root / "bad.scene"))
    assert code == EXIT_ERRORS and "gone.jpg cannot be reached (HTTP 404)" in out
    assert server.submissions == []
    code, out, _ = scenec(capsys, "render", str(root / "good.scene"))
    assert code == EXIT_OK, out
    assert [m["url"] for m in server.submissions[0]["input"]["media"]][1] == f"{media_host}/boy.jpg"
    code, out, _ = scenec(capsys, "render", str(root / "bad.scene"), "--no-url-check")
    assert code == EXIT_OK and len(server.submissions) == 2  # the fake service does not fetch URLs


# --- an unknown submit is settled before the scene renders another way (docs/rendering.md) ---------------

# Valid under wan2.7-r2v and wan3.0-video alike (Wan 3.0 takes no PROMPT EXTEND).
PORTABLE = ALLEY.replace("PROMPT EXTEND: off\n", "")


@pytest.mark.parametrize(("how", "changed"), [
    ("--region", "-> https://dashscope-intl.aliyuncs.com/api/v1"),
    ("SCENEC_REGION", "-> https://dashscope-intl.aliyuncs.com/api/v1"),
    ("project region", "-> https://dashscope-intl.aliyuncs.com/api/v1"),
    ("project model", "model wan2.7-r2v -> wan3.0-video"),
])
def test_a_changed_region_or_project_model_waits_for_the_unknown_submit(tmp_path, capsys, monkeypatch, how,
                                                                        changed) -> None:
    import httpx

    from compiler.regions import base_url, region_named
    from compiler.render.client import canonical_endpoint
    from compiler.render.journal import Journal
    from compiler.render.planning import Job, RenderOptions, load_job, plan

    for name in ("DASHSCOPE_HTTP_BASE_URL", "SCENEC_REGION", "SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE",
                 "DASHSCOPE_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)

    def no_network(*args, **kwargs):
        raise AssertionError("a blocked scene sends nothing")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    root = project(tmp_path, {"alley.scene": PORTABLE})
    scene = root / "alley.scene"
    beijing = base_url(region_named("beijing"), None)  # type: ignore[arg-type]
    # The journal of a run in Beijing whose submit answer was lost.
    job = load_job(scene, output=None, region="beijing", endpoint=canonical_endpoint(beijing))
    assert isinstance(job, Job)
    with Journal.open(job.journal_path) as journal:
        rid = journal.prepare(job.key, job.identity.payload_sha256, json.dumps(job.payload), job.identity.media_sha256,
                              job.endpoint)
        journal.mark_unknown_submit(rid, "ReadTimeout after the request was sent")
    [same] = plan([scene], RenderOptions(base_url=beijing))
    assert same.action == "reconcile" and same.previous is not None and same.previous.id == rid
    extra: list[str] = []
    if how == "--region":
        extra = ["--region", "singapore"]
    elif how == "SCENEC_REGION":
        monkeypatch.setenv("SCENEC_REGION", "singapore")
    else:
        key = "region = \"singapore\"" if how == "project region" else "model = \"wan3.0-video\""
        (root / "scenec.toml").write_text(f"{key}\n" + (root / "scenec.toml").read_text(encoding="utf-8"))
    code, out, err = scenec(capsys, "render", str(scene), *extra)
    assert code == EXIT_ERRORS and "blocked" in out + err and changed in out + err, out + err
    assert "ReadTimeout after the request was sent" in out + err and "Nothing was submitted" in out + err
    assert [r["state"] for r in rows(root)] == ["UNKNOWN_SUBMIT"]
