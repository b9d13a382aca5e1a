"""A wan2.7 render's identity does not change when the renderer asks the target instead of reading the body
itself: the digests below were computed on main (a260763) before that change, by the same calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.render.client import canonical_endpoint
from compiler.render.identity import Identity
from compiler.render.planning import load_job

SCENES = Path(__file__).resolve().parent.parent / "scenes"
BEIJING = "https://dashscope.aliyuncs.com/api/v1"

# (payload_sha256, media_sha256) of scenes/NAME.scene for the Beijing endpoint, computed on main.
PINNED = {
    # video + voices + images: media slots at url and reference_voice
    "alley": Identity("8427c7641ad05231219386a82c15b9ff4b1c8e541929ff61528c8af3de39e7c8",
                      "8eda5410ead53a2719060944005a37d8cb54ff8a5ec5625eb38912c729992352"),
    # a first frame: no default ratio in the effective parameters
    "first-frame": Identity("3ba7faeab4bd2972d4ec3f8843d9c00c52476d86cbadaa8c31eb194674f591be",
                            "7543627abe8e71982af6b47a6e35c33a9a79cc5817b540943822ce6a8e1eb4d2"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_identity_of_an_existing_wan27_payload_is_unchanged(name: str, tmp_path: Path) -> None:
    # A copy: the identity depends on the project-relative paths and the bytes, not on where the project is.
    shutil.copytree(SCENES / "media", tmp_path / "media")
    shutil.copy(SCENES / "scenec.toml", tmp_path)
    shutil.copy(SCENES / f"{name}.scene", tmp_path)
    job = load_job(tmp_path / f"{name}.scene", output=None, region="beijing", endpoint=canonical_endpoint(BEIJING))
    assert not hasattr(job, "action"), job
    assert job.identity == PINNED[name]
