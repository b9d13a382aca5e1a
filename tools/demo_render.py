"""The demo's render step: render an example scene end to end against the loopback DashScope test server.

Run: python tools/demo_render.py [SCENE]  (part of `make demo`).  No key, no network: the server is
tests/fakescope on 127.0.0.1, and `scenec render` runs as a user would run it, in a subprocess.
It renders twice to show that the second run pays nothing.
The example scenes use local media only, so the remote media check asks nothing; a scene with media
URLs on the test server's loopback address would need `[network] allow_hosts = ["127.0.0.1"]` in the
project's scenec.toml (the endpoint itself, --base-url, is the user's choice and is not checked).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakescope.server import FakeDashScope  # noqa: E402

DEMO_KEY = "sk-demo-not-a-real-key"


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "alley.scene"
    # A fresh copy of the example project, so the demo never leaves a journal or renders in scenes/.
    project = ROOT / "build" / "demo-project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(ROOT / "scenes", project, ignore=shutil.ignore_patterns(".scenec", "renders"))
    scene = project / name
    scenec = Path(sys.executable).parent / "scenec"
    with FakeDashScope(api_key=DEMO_KEY, generation_delay=2.0) as server:
        env = {**os.environ, "DASHSCOPE_API_KEY": DEMO_KEY}
        print(f"demo: rendering {scene} against the local test server {server.base_url}")
        for attempt in ("first run", "second run (nothing changed)"):
            print(f"--- {attempt}")
            done = subprocess.run([str(scenec), "render", str(scene), "--base-url", server.base_url], env=env)
            if done.returncode != 0:
                return done.returncode
        print(f"demo: the server received {len(server.submissions)} submission(s); "
              f"the video is in {project.relative_to(ROOT)}/renders/, "
              f"its journal in {project.relative_to(ROOT)}/.scenec/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
