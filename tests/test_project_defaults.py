"""The project's defaults (issue 13 item 1): model, language and region in scenec.toml or [tool.scenec].

model and language stand in for a scene's MODEL: and LANGUAGE: (the header wins); region stands in for
--region of render, cost, cancel and preview (--region and SCENEC_REGION win).  Bad values are reported at
their line in the configuration."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from compiler.api import check_file, compile_file
from compiler.cli import EXIT_OK, EXIT_USAGE, main
from compiler.project import PRECEDENCE
from compiler.render import client as client_module
from compiler.render.client import REGIONS
from compiler.render.commands import _base_url
from compiler.targets import all_models

ROOT = Path(__file__).resolve().parent.parent
OK_JPG = ROOT / "tests" / "cases" / "media" / "ok.jpg"
SCENE = """TITLE: Wave
CAST
MAYA: image ok.jpg

MAYA waves.
"""
# The example project's alley scene (its media copied beside it): 13 billable seconds at 1080P.
ALLEY = (ROOT / "scenes" / "alley.scene").read_text(encoding="utf-8")


def project(folder: Path, config: str | None, scene: str = SCENE, *, pyproject: bool = False) -> Path:
    """A project folder with ok.jpg and a.scene, and `config` as scenec.toml (or pyproject's [tool.scenec])."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ok.jpg").write_bytes(OK_JPG.read_bytes())
    if config is not None:
        name, text = ("pyproject.toml", "[project]\nname = 'films'\n\n[tool.scenec]\n" + config) if pyproject \
            else ("scenec.toml", config)
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "a.scene"
    path.write_text(scene, encoding="utf-8")
    return path


def body(path: Path) -> dict:
    compiled = compile_file(path)
    assert compiled.payload is not None, [d.message for d in compiled.diagnostics]
    return compiled.payload.model_dump(mode="json", exclude_none=True)


def config_findings(path: Path) -> list[tuple[str, int | None]]:
    return [(d.code, d.span.line if d.span else None) for d in check_file(path) if d.path.endswith(".toml")]


@pytest.fixture(autouse=True)
def _no_region_in_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("SCENEC_REGION", raising=False)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    for name in ("SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE", "DASHSCOPE_WORKSPACE_ID"):  # a workspace picks the host
        monkeypatch.delenv(name, raising=False)


# --- model and language -----------------------------------------------------------------------------


def test_the_precedence_is_one_table_naming_every_source_in_order() -> None:
    assert PRECEDENCE["model"] == ("command line", "scene header", "configuration", "API default")
    assert PRECEDENCE["region"] == ("command line", "SCENEC_REGION", "configuration", "default")


@pytest.mark.parametrize("pyproject", [False, True])
def test_a_configured_model_is_the_scenes_model(tmp_path, pyproject: bool) -> None:
    path = project(tmp_path, 'model = "wan2.7-r2v-2026-06-12"\n', pyproject=pyproject)
    assert body(path)["model"] == "wan2.7-r2v-2026-06-12"
    assert config_findings(path) == []


def test_the_scene_header_model_wins_over_the_configured_one(tmp_path) -> None:
    path = project(tmp_path, 'model = "wan2.7-r2v-2026-06-12"\n', "MODEL: wan2.7-r2v\n" + SCENE)
    assert body(path)["model"] == "wan2.7-r2v"


def test_a_configured_language_changes_the_prompt_and_the_header_wins(tmp_path) -> None:
    english = body(project(tmp_path / "en", None))["input"]["prompt"]
    chinese = body(project(tmp_path / "zh", 'language = "Chinese"\n'))["input"]["prompt"]
    assert english == "Reference image waves." and chinese.startswith("参考图片")  # the Chinese template
    header = body(project(tmp_path / "both", 'language = "zh"\n', "LANGUAGE: en\n" + SCENE))["input"]["prompt"]
    assert header == english


def test_a_configured_model_equal_to_the_api_default_sends_the_same_request_as_none(tmp_path) -> None:
    """model is always in the body (emit.py): configuring the default changes nothing in it, and nothing
    else (parameters, which carry only what the writer set) is added."""
    plain = body(project(tmp_path / "plain", None))
    configured = body(project(tmp_path / "configured", 'model = "wan2.7-r2v"\n'))
    assert configured == plain and plain["model"] == "wan2.7-r2v"


def test_configured_defaults_are_part_of_the_render_identity(tmp_path) -> None:
    """A render's identity is its request: a configured language or model is another render (paid again),
    a configured API-default model is the same one (never paid twice)."""
    from compiler.render.identity import identity

    def render_identity(config: str | None, folder: str) -> object:
        return identity(body(project(tmp_path / folder, config)), ()).payload_sha256

    plain = render_identity(None, "plain")
    assert render_identity('language = "zh"\n', "zh") != plain
    assert render_identity('model = "wan2.7-r2v-2026-06-12"\n', "dated") != plain
    assert render_identity('model = "wan2.7-r2v"\n', "same") == plain


def test_bad_defaults_are_reported_at_their_line_and_not_used(tmp_path) -> None:
    config = '# defaults\nmodel = "wan2.6"\nlanguage = 3\nregion = "mars"\nlanguage_ = "zh"\n'
    path = project(tmp_path, config)
    assert config_findings(path) == [("bad-setting-value", 2), ("config-error", 3), ("bad-setting-value", 4),
                                     ("config-unknown-key", 5)]
    messages = " ".join(d.message for d in check_file(path))
    assert f"use one of {', '.join(sorted(all_models()))}" in messages
    assert "beijing, frankfurt, hongkong, singapore, tokyo, us" in messages
    compiled = compile_file(path)
    assert compiled.payload is None and compiled.scene is not None
    assert compiled.scene.settings.model == "wan2.7-r2v" and compiled.scene.settings.language == "en"


def test_an_upper_case_key_is_pointed_at_the_lower_case_one(tmp_path) -> None:
    path = project(tmp_path, 'MODEL = "wan2.7-r2v"\n')
    [found] = [d for d in check_file(path) if d.code == "config-unknown-key"]
    assert found.span is not None and found.span.line == 1 and "did you mean model?" in found.message


def test_show_settings_prints_the_three_defaults_with_their_origins(tmp_path, capsys, monkeypatch) -> None:
    path = project(tmp_path, 'language = "zh"\nregion = "intl"\n[media]\nallow = []\n')
    assert main(["check", "--show-settings", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    config = tmp_path / "scenec.toml"
    assert 'model = "wan2.7-r2v"  # API default' in out
    assert f'language = "zh"  # {config}:1' in out and f'region = "singapore"  # {config}:2' in out
    monkeypatch.setenv("SCENEC_REGION", "us")
    main(["check", "--show-settings", str(path)])
    assert 'region = "us"  # SCENEC_REGION' in capsys.readouterr().out


# --- region ---------------------------------------------------------------------------------------


def cost(capsys, *args: str) -> tuple[int, dict, str]:
    """The exit code, the first scene's JSON line ({} when none), standard error."""
    code = main(["cost", "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.splitlines()[0]) if captured.out else {}, captured.err


def test_cost_region_flag_over_environment_over_configuration_over_default(tmp_path, capsys, monkeypatch) -> None:
    configured = str(project(tmp_path / "sg", 'region = "singapore"\n'))
    plain = str(project(tmp_path / "plain", None))
    assert cost(capsys, plain)[1]["region"] == "beijing"  # the endpoint's (the built-in default)
    assert cost(capsys, configured)[1]["region"] == "singapore"
    monkeypatch.setenv("SCENEC_REGION", "us")
    assert cost(capsys, configured)[1]["region"] == "us"
    assert cost(capsys, configured, "--region", "beijing")[1]["region"] == "beijing"


def test_a_known_regions_endpoint_is_priced_as_that_region_unless_region_is_given(tmp_path, monkeypatch) -> None:
    """An endpoint named elsewhere that is a known region's own keeps that region's prices over the environment's
    or the configuration's region (a budget checked at the wrong price could pay more than it allows)."""
    scene = project(tmp_path, 'region = "beijing"\n')
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", REGIONS["singapore"])
    args = argparse.Namespace(base_url=None, region=None, workspace=None)
    assert _base_url("render", args, [scene]) == REGIONS["singapore"] and args.region == "singapore"
    args = argparse.Namespace(base_url=None, region="beijing", workspace=None)  # --region: the writer's word
    assert _base_url("render", args, [scene]) == REGIONS["singapore"] and args.region == "beijing"


def test_the_configured_region_chooses_the_endpoint(tmp_path) -> None:
    scene = project(tmp_path, 'region = "ap-southeast-1"\n')
    args = argparse.Namespace(base_url=None, region=None, workspace=None)
    assert _base_url("render", args, [scene]) == REGIONS["singapore"] and args.region == "singapore"


def test_scenes_whose_projects_disagree_on_region_are_a_usage_error(tmp_path, capsys) -> None:
    first = project(tmp_path / "one", 'region = "singapore"\n')
    second = project(tmp_path / "two", None)
    code, out, err = cost(capsys, str(first), str(second))
    assert code == EXIT_USAGE and out == {}
    assert "different regions" in err and "singapore" in err and "none configured" in err
    assert cost(capsys, str(first), str(second), "--region", "us")[0] == EXIT_OK


def test_render_prices_by_flag_over_environment_over_configuration(tmp_path, capsys, monkeypatch,
                                                                   fake_servers) -> None:
    server = fake_servers(api_key="sk-defaults-0123456789", generation_delay=0.1)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-defaults-0123456789")
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    monkeypatch.setattr(client_module, "next_poll_interval", lambda index, hint: 0.05)
    root = tmp_path / "proj"
    shutil.copytree(ROOT / "scenes" / "media", root / "media")
    (root / "scenec.toml").write_text('region = "singapore"\n[network]\nallow_hosts = []\n', encoding="utf-8")
    (root / "alley.scene").write_text(ALLEY, encoding="utf-8")
    assert main(["render", str(root / "alley.scene")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "(singapore, 1080P)" in out
    meta = json.loads((root / "renders" / "alley.json").read_text(encoding="utf-8"))
    assert meta["cost_estimate"]["region"] == "singapore"
    monkeypatch.setenv("SCENEC_REGION", "cn-beijing")  # over the configuration, under --region
    assert main(["render", str(root / "alley.scene"), "--force"]) == EXIT_OK
    assert "(beijing, 1080P)" in capsys.readouterr().out
    assert main(["render", str(root / "alley.scene"), "--region", "singapore", "--force"]) == EXIT_OK
    assert "(singapore, 1080P)" in capsys.readouterr().out


def test_preview_bills_in_the_configured_region_unless_told(tmp_path, monkeypatch) -> None:
    path = project(tmp_path, 'region = "singapore"\n')
    assert main(["preview", str(path)]) == EXIT_OK
    assert "singapore" in path.with_suffix(".html").read_text(encoding="utf-8")
    assert main(["preview", str(path), "--region", "beijing"]) == EXIT_OK
    page = path.with_suffix(".html").read_text(encoding="utf-8")
    assert "beijing" in page and "singapore" not in page


def test_every_region_a_project_may_name_has_an_endpoint() -> None:
    from compiler.project import DEFAULT_REGION, REGION_ALIASES, REGION_NAMES

    assert set(REGIONS) == set(REGION_NAMES) and DEFAULT_REGION in REGIONS
    assert set(REGION_ALIASES.values()) <= set(REGIONS)


@pytest.mark.parametrize("value", ["1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "1979-05-27T07:32:00"])
@pytest.mark.parametrize("key", ["model", "language", "region", "workspace"])
def test_a_toml_date_or_time_as_a_default_is_a_config_error_not_a_traceback(tmp_path: Path, key: str, value: str,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "scenec.toml").write_text(f"{key} = {value}\n", encoding="utf-8")
    scene = tmp_path / "one.scene"
    scene.write_text("CAST\nLEO: image https://example.com/leo.png\n\nLEO waits.\n", encoding="utf-8")
    assert main(["check", str(scene)]) == 1
    assert main(["check", str(scene), "--show-settings"]) in (0, 1)
    assert main(["cost", str(scene)]) == 1
    out, err = capsys.readouterr()
    assert f"{key} must be a string" in out + err and "Traceback" not in out + err


@pytest.mark.parametrize(("text", "line"), [("tool.scenec = 3\n", 1), ('[tool]\nname = "x"\nscenec = "wan"\n', 3),
                                            ("[tool]\nscenec = [1, 2]\n", 2)])
def test_a_tool_scenec_that_is_no_table_is_a_config_error_not_ignored(tmp_path: Path, text: str, line: int,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    scene = tmp_path / "one.scene"
    scene.write_text("CAST\nLEO: image https://example.com/leo.png\n\nLEO waits.\n", encoding="utf-8")
    assert main(["check", str(scene)]) == 1
    out = capsys.readouterr().out
    assert f"pyproject.toml:{line}:1: config-error error: [tool.scenec] must be a table" in out
