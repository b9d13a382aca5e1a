"""The repository's pre-commit hooks (.pre-commit-hooks.yaml) as a team installs them: `pre-commit try-repo`
on this repository (HEAD plus uncommitted changes, as a shadow commit) against a small repository of scenes.

pre-commit builds a virtualenv and pip-installs this repository from its local path: packages come from
the package index only (the pip settings are inherited), nothing else from the network.  That takes
20-60 s, hence the `slow` mark (`pytest -m "not slow"` leaves it out)."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OK_JPG = ROOT / "tests" / "cases" / "media" / "ok.jpg"

pytestmark = pytest.mark.slow

CLEAN = "CAST\nMAYA: image ok.jpg\n\nMAYA waves.\n"
BROKEN = "CAST\nMAYA: image ok.jpg\n\nMAYA waves.\n\nMAYO\nHello.\n"


def _samples(tmp_path: Path) -> Path:
    repo = tmp_path / "films"
    repo.mkdir()
    shutil.copy(OK_JPG, repo / "ok.jpg")
    (repo / "clean.scene").write_text(CLEAN, encoding="utf-8")
    (repo / "broken.scene").write_text(BROKEN, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    return repo


def _try_repo(repo: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", *files],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None,
                    reason="pre-commit is not installed (it is in the test extra: pip install -e '.[test]')")
def test_the_scenec_check_hook_runs_from_this_repository(tmp_path) -> None:
    repo = _samples(tmp_path)
    home = tmp_path / "pre-commit-home"
    failed = _try_repo(repo, home, "scenec-check", "clean.scene", "broken.scene")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "broken.scene:6:1: unknown-speaker error: MAYO speaks but is not in the cast" in failed.stdout
    passed = _try_repo(repo, home, "scenec-check", "clean.scene")  # the hook's environment is reused
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "scenec check" in passed.stdout and "Passed" in passed.stdout
