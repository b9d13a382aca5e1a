"""Regions and endpoints as data (compiler/regions.py): the table and its names, workspace hosts, the one
identity of an endpoint, which regions serve a model, and where a workspace comes from."""

from __future__ import annotations

import io
import ipaddress
import json
import re
import shutil
import socket
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import project as project_module
from compiler.cli import main
from compiler.config import WorkspaceConflict, chosen_workspace, config_diagnostics, configured_workspace
from compiler.project import PRECEDENCE, Project, find_project
from compiler.regions import (
    DEFAULT_REGION,
    REGION_ALIASES,
    REGION_NAMES,
    REGION_TABLE,
    WORKSPACE_VARIABLES,
    base_url,
    canonical_base,
    region_named,
    serves,
    unavailable_text,
    workspace_of,
    workspace_problem,
)
from compiler.render.client import REGIONS, canonical_endpoint
from compiler.render.planning import RenderOptions

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"
KEY = "sk-regions-0123456789abcdef"


@pytest.fixture(autouse=True)
def _no_endpoint_in_the_environment(monkeypatch) -> None:
    for name in ("SCENEC_REGION", "DASHSCOPE_HTTP_BASE_URL", *WORKSPACE_VARIABLES):
        monkeypatch.delenv(name, raising=False)


# --- the table ----------------------------------------------------------------------------------------


def test_the_table_holds_six_regions_with_their_alibaba_ids() -> None:
    assert {r.name: r.region_id for r in REGION_TABLE} == {
        "beijing": "cn-beijing", "singapore": "ap-southeast-1", "us": "us-east-1", "hongkong": "cn-hongkong",
        "frankfurt": "eu-central-1", "tokyo": "ap-northeast-1"}
    assert tuple(r.name for r in REGION_TABLE) == REGION_NAMES and DEFAULT_REGION in REGION_NAMES
    assert project_module.REGION_NAMES is REGION_NAMES and project_module.REGION_ALIASES is REGION_ALIASES


def test_legacy_hosts_are_todays_and_the_sdk_fallback_is_marked() -> None:
    legacy = {r.name: (r.legacy_base, r.legacy_is_own) for r in REGION_TABLE}
    assert legacy["beijing"] == ("https://dashscope.aliyuncs.com/api/v1", True)
    assert legacy["singapore"] == ("https://dashscope-intl.aliyuncs.com/api/v1", True)
    assert legacy["us"] == ("https://dashscope-us.aliyuncs.com/api/v1", True)
    for name in ("hongkong", "frankfurt", "tokyo"):  # [sdk]: these fall back to Singapore's legacy host
        assert legacy[name] == (legacy["singapore"][0], False)
    assert [r.name for r in REGION_TABLE if not r.verified] == ["frankfurt", "tokyo"]
    assert all("[unsettled]" in r.source for r in REGION_TABLE if not r.legacy_is_own)


@pytest.mark.parametrize(("typed", "name"), [
    ("beijing", "beijing"), (" Beijing ", "beijing"), ("cn-beijing", "beijing"), ("CN-BEIJING", "beijing"),
    ("intl", "singapore"), ("ap-southeast-1", "singapore"), ("virginia", "us"), ("us-east-1", "us"),
    ("hk", "hongkong"), ("cn-hongkong", "hongkong"), ("eu-central-1", "frankfurt"), ("ap-northeast-1", "tokyo")])
def test_names_aliases_and_ids_find_their_region(typed: str, name: str) -> None:
    found = region_named(typed)
    assert found is not None and found.name == name


@pytest.mark.parametrize("typed", ["mars", "", "beijing2", "cn", None])
def test_an_unknown_name_finds_no_region(typed: str | None) -> None:
    assert region_named(typed) is None


def test_every_alias_is_unique_and_every_id_is_an_alias() -> None:
    aliases = [alias for r in REGION_TABLE for alias in r.aliases]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(REGION_NAMES)
    assert all(r.region_id in r.aliases for r in REGION_TABLE)


# --- workspace hosts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REGION_NAMES)
def test_a_workspace_gives_the_regions_workspace_host(name: str) -> None:
    region = region_named(name)
    assert region is not None
    if region.legacy_is_own:  # the others need a workspace (test below)
        assert base_url(region, None) == region.legacy_base
    assert base_url(region, "llm-Ab12") == f"https://llm-Ab12.{region.region_id}.maas.aliyuncs.com/api/v1"
    assert workspace_of(base_url(region, "llm-Ab12")) == "llm-ab12"  # host names are case-blind


@pytest.mark.parametrize("bad", ["", "-ws", "ws-", "a.b", "a b", "a/b", "a_b", "w" * 64, "wé", "ws\n",
                                 "evil.com#", "x@y", "ws:80"])
def test_a_workspace_that_cannot_be_a_host_label_is_refused_with_a_reason(bad: str) -> None:
    beijing = region_named("beijing")
    assert beijing is not None
    with pytest.raises(ValueError, match="not a workspace id: it is put in a host name"):
        base_url(beijing, bad)


@pytest.mark.parametrize("good", ["w", "llm-abc123", "WS-9", "w" * 63, "1a"])
def test_workspace_ids_as_the_console_shows_them_are_taken(good: str) -> None:
    assert workspace_problem(good) is None


def test_a_host_that_is_no_known_regions_workspace_host_names_no_workspace() -> None:
    assert workspace_of("https://dashscope.aliyuncs.com/api/v1") is None
    assert workspace_of("https://ws.mars-1.maas.aliyuncs.com/api/v1") is None
    assert workspace_of("https://ws.cn-beijing.maas.aliyuncs.com.evil.test/api/v1") is None
    assert workspace_of("not a url") is None


# --- one identity per endpoint --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["beijing", "singapore", "us"])
@pytest.mark.parametrize("spelling", ["https://{w}.{id}.maas.aliyuncs.com/api/v1",
                                      "HTTPS://{w}.{ID}.MAAS.ALIYUNCS.COM:443/api/v1/",
                                      "https://{w}.{id}.maas.aliyuncs.com//api//v1//"])
def test_a_workspace_host_is_its_regions_legacy_endpoint(name: str, spelling: str) -> None:
    region = region_named(name)
    assert region is not None
    url = spelling.format(w="llm-x1", id=region.region_id, ID=region.region_id.upper())
    assert canonical_base(url) == region.legacy_base == canonical_base(region.legacy_base)
    other_workspace = base_url(region, "llm-y2")
    assert canonical_base(other_workspace) == canonical_base(url)


def test_a_region_without_its_own_legacy_host_keeps_its_own_identity() -> None:
    """Hong Kong's workspace host is not keyed as Singapore's legacy host (where the SDK sends Hong Kong without
    a workspace): they may be two services [unsettled], and one identity would resume a task at the wrong one."""
    hongkong, singapore = region_named("hongkong"), region_named("singapore")
    assert hongkong is not None and singapore is not None
    key = canonical_base(base_url(hongkong, "w1"))
    assert key == "https://cn-hongkong.maas.aliyuncs.com/api/v1" == canonical_base(base_url(hongkong, "w2"))
    assert key != canonical_base(singapore.legacy_base)


@pytest.mark.parametrize("url", ["https://w.cn-beijing.maas.aliyuncs.com:8443/api/v1",
                                 "https://w.cn-beijing.maas.aliyuncs.com/api/v2",
                                 "http://w.cn-beijing.maas.aliyuncs.com/api/v1",
                                 "https://w.cn-beijing.maas.aliyuncs.com/api/v1?x=1"])
def test_another_port_path_or_scheme_on_a_workspace_host_is_another_endpoint(url: str) -> None:
    assert canonical_base(url) != REGIONS["beijing"]


def test_render_options_key_a_workspace_host_as_the_legacy_host() -> None:
    legacy = RenderOptions(base_url=REGIONS["us"])
    scoped = RenderOptions(base_url="https://llm-q.us-east-1.maas.aliyuncs.com/api/v1", workspace="llm-q")
    assert scoped.endpoint == legacy.endpoint == canonical_endpoint(REGIONS["us"])


# Today's canonical_endpoint (compiler/render/client.py at 2f09312), kept here as it was: the identities of
# renders already journaled were computed with it and must not change.
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def canonical_endpoint_before(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _canonical_host_before((parts.hostname or "").rstrip("."))
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    return urllib.parse.urlunsplit((scheme, netloc, path, parts.query, ""))


def _canonical_host_before(host: str) -> str:
    if host in _LOOPBACK_NAMES:
        return "localhost"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        if not re.fullmatch(r"[0-9a-fx.]+", host):
            return host
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")):
        return "localhost"
    return str(address)


def outcome(function, url: str) -> tuple[str, str]:
    try:
        return "value", function(url)
    except ValueError as error:
        return "error", type(error).__name__


LEGACY_SPELLINGS = [
    *REGIONS.values(), "HTTPS://DashScope.AliyunCS.com:443/api/v1/", "https://dashscope-intl.aliyuncs.com//api/v1//",
    "https://DASHSCOPE-US.aliyuncs.com./api/v1", "http://localhost:8080/api/v1", "http://127.1:8080/api/v1/",
    "http://[::1]:8080/api/v1", "http://[::ffff:127.0.0.1]/api/v1", "http://user:pw@proxy.test:80/api/v1",
    "https://proxy.test:8443/dashscope/api/v1?x=1#f", "http://0x7f.0.0.1/api/v1", "https://[2001:db8::1]/api/v1",
    "https://ws.mars-1.maas.aliyuncs.com/api/v1", "ftp://x", "", "http://[::1", "http://h:99999/api/v1", "noscheme",
]


@pytest.mark.parametrize("url", LEGACY_SPELLINGS)
def test_every_other_endpoint_keeps_exactly_todays_identity(url: str) -> None:
    assert outcome(canonical_base, url) == outcome(canonical_endpoint_before, url)
    assert outcome(canonical_endpoint, url) == outcome(canonical_endpoint_before, url)


# A known region's workspace-scoped base URL, as canonical_base folds it (the scheme and host in any case).
_WORKSPACE_HOST = re.compile(r"\s*(?i:https://[^/?#]*\.(cn-beijing|ap-southeast-1|us-east-1|cn-hongkong|eu-central-1|"
                             r"ap-northeast-1)\.maas\.aliyuncs\.com\.?)(:443)?/+api/+v1/*(#.*)?\s*")
_HOSTS = st.sampled_from(["dashscope.aliyuncs.com", "DashScope-Intl.aliyuncs.com", "localhost", "127.0.0.1", "127.1",
                          "[::1]", "proxy.test", "w.mars-1.maas.aliyuncs.com", "w.cn-beijing.maas.aliyuncs.com",
                          "cn-beijing.maas.aliyuncs.com"])


@given(st.sampled_from(["http", "https", "HTTPS", ""]), _HOSTS, st.sampled_from(["", ":80", ":443", ":8080", ":x"]),
       st.sampled_from(["", "/", "/api/v1", "//api/v1/", "/API/v1", "/api/v2"]), st.sampled_from(["", "?a=1", "#f"]))
def test_a_url_that_is_no_known_regions_workspace_host_keeps_todays_identity(scheme: str, host: str, port: str,
                                                                             path: str, tail: str) -> None:
    url = f"{scheme}://{host}{port}{path}{tail}" if scheme else f"{host}{port}{path}{tail}"
    before = outcome(canonical_endpoint_before, url)
    if _WORKSPACE_HOST.fullmatch(url):
        assert outcome(canonical_base, url) == ("value", REGIONS["beijing"])
    else:
        assert outcome(canonical_base, url) == before


@given(st.text(max_size=60))
def test_any_text_keeps_todays_identity_or_its_error(text: str) -> None:
    if not _WORKSPACE_HOST.fullmatch(text):
        assert outcome(canonical_base, text) == outcome(canonical_endpoint_before, text)


# --- which models a region serves ---------------------------------------------------------------------------


def test_a_model_is_served_where_its_target_lists_and_an_unknown_endpoint_is_never_refused() -> None:
    kling = ("beijing",)
    assert serves(kling, "beijing") and serves(kling, "cn-beijing") and serves(kling, " Beijing ")
    assert not serves(kling, "singapore") and not serves(kling, "intl")
    assert serves(kling, None)  # a custom --base-url: no region, never refused
    assert serves(kling, "a-proxy")  # not a region scenec knows: config.py reports it, this does not refuse


def test_the_unavailable_text_names_the_regions_that_serve_it() -> None:
    assert unavailable_text("kling/kling-v3-omni-video-generation", "intl", ("beijing",)) == (
        "kling/kling-v3-omni-video-generation is served only in beijing, not in singapore; pass --region beijing")
    assert unavailable_text("happyhorse-1.0-r2v", "us", ("singapore", "beijing")) == (
        "happyhorse-1.0-r2v is served only in beijing and singapore, not in us; pass --region beijing")
    assert "not served in any region" in unavailable_text("m", "us", ())


# --- where the workspace comes from -------------------------------------------------------------------------


def scene_in(folder: Path, config: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "scenec.toml").write_text(config, encoding="utf-8")
    path = folder / "a.scene"
    shutil.copy(SCENES / "alley.scene", path)
    shutil.copytree(SCENES / "media", folder / "media", dirs_exist_ok=True)
    return path


def test_the_workspace_precedence_is_one_row_of_the_table() -> None:
    assert PRECEDENCE["workspace"] == ("command line", "SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE",
                                       "DASHSCOPE_WORKSPACE_ID", "configuration")


def test_flag_over_each_variable_over_the_configuration(tmp_path) -> None:
    configured = [find_project(scene_in(tmp_path / "conf", 'workspace = "from-config"\n'))]
    env = {"SCENEC_WORKSPACE": "ours", "DASHSCOPE_WORKSPACE": "sdk2", "DASHSCOPE_WORKSPACE_ID": "sdk1"}
    assert chosen_workspace("flag", env, configured) == ("flag", "command line")
    assert chosen_workspace(None, env, configured) == ("ours", "SCENEC_WORKSPACE")
    del env["SCENEC_WORKSPACE"]
    assert chosen_workspace(None, env, configured) == ("sdk2", "DASHSCOPE_WORKSPACE")
    del env["DASHSCOPE_WORKSPACE"]
    assert chosen_workspace(None, env, configured) == ("sdk1", "DASHSCOPE_WORKSPACE_ID")
    assert chosen_workspace(None, {"SCENEC_WORKSPACE": "  "}, configured) == ("from-config", "configuration")
    assert chosen_workspace(None, {}, [find_project(scene_in(tmp_path / "plain", None))]) is None


def test_projects_configured_for_different_workspaces_are_refused_unless_something_decides(tmp_path) -> None:
    one = find_project(scene_in(tmp_path / "one", 'workspace = "w1"\n'))
    two = find_project(scene_in(tmp_path / "two", 'workspace = "w2"\n'))
    with pytest.raises(WorkspaceConflict, match=r"different workspaces: w1 .*; w2 "):
        chosen_workspace(None, {}, [one, two])
    assert chosen_workspace("w3", {}, [one, two]) == ("w3", "command line")
    assert chosen_workspace(None, {"DASHSCOPE_WORKSPACE_ID": "w4"}, [one, two]) == ("w4", "DASHSCOPE_WORKSPACE_ID")


@pytest.mark.parametrize(("config", "code"), [('workspace = 7\n', "config-error"),
                                              ('workspace = "my.workspace"\n', "bad-setting-value")])
def test_a_wrong_configured_workspace_is_reported_at_its_line_and_not_used(tmp_path, config: str, code: str) -> None:
    project = find_project(scene_in(tmp_path, "# defaults\n" + config))
    assert [(d.code, d.span.line if d.span else None) for d in config_diagnostics(project)] == [(code, 2)]
    assert configured_workspace(project) is None


def test_a_good_configured_workspace_is_no_finding(tmp_path) -> None:
    project = find_project(scene_in(tmp_path, 'workspace = "llm-abc123"\n'))
    assert config_diagnostics(project) == [] and configured_workspace(project) == (
        "llm-abc123", f"{tmp_path / 'scenec.toml'}:1")
    assert configured_workspace(Project(tmp_path)) is None


# --- the commands ---------------------------------------------------------------------------------------------


def test_cost_through_a_workspace_host_is_priced_as_its_region(tmp_path, capsys) -> None:
    scene = scene_in(tmp_path, None)
    assert main(["cost", "--json", str(scene), "--workspace", "llm-ab1"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["region"] == "beijing"


@pytest.mark.parametrize("command", ["cost", "render", "cancel"])
def test_a_bad_workspace_is_a_usage_error_and_nothing_is_sent(tmp_path, capsys, monkeypatch, command: str) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_WORKSPACE", "evil.example.com/")
    scene = scene_in(tmp_path, None)
    assert main([command, str(scene)]) == 2
    err = capsys.readouterr().err
    assert "'evil.example.com/' is not a workspace id" in err and "(from DASHSCOPE_WORKSPACE)" in err


def test_render_end_to_end_sends_the_workspace_with_every_api_request(fake_servers, tmp_path, capsys,
                                                                      monkeypatch) -> None:
    from compiler.render import client as client_module

    server = fake_servers(api_key=KEY, log=io.StringIO(), generation_delay=0.1)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    monkeypatch.setattr(client_module, "next_poll_interval", lambda index, hint: 0.05)
    scene = scene_in(tmp_path, 'workspace = "llm-e2e"\n')
    code = main(["render", str(scene)])
    assert code == 0, capsys.readouterr()
    api = [headers for _, path, headers in server.requests if path.startswith("/api/v1/")]
    assert any("video-synthesis" in path for _, path, _ in server.requests)
    assert api and all(headers.get("X-DashScope-WorkSpace") == "llm-e2e" for headers in api)


@pytest.mark.parametrize("name", ["hongkong", "frankfurt", "tokyo"])
def test_a_region_without_a_host_of_its_own_needs_a_workspace_never_falls_back_silently(name: str) -> None:
    region = region_named(name)
    assert region is not None and not region.legacy_is_own
    with pytest.raises(ValueError, match=rf"region {name} has no API host of its own: pass --workspace ID"):
        base_url(region, None)
    assert base_url(region, "w1") == f"https://w1.{region.region_id}.maas.aliyuncs.com/api/v1"


def test_cost_and_render_at_hongkong_without_a_workspace_are_usage_errors(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.cli import main

    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    for variable in ("SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE", "DASHSCOPE_WORKSPACE_ID"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-sent")
    scene = tmp_path / "one.scene"
    scene.write_text("CAST\nLEO: image https://example.com/leo.png\n\nLEO waits.\n", encoding="utf-8")
    for command in ("cost", "render"):  # render stops here, before anything could be sent
        assert main([command, str(scene), "--region", "hongkong"]) == 2
        assert "region hongkong has no API host of its own" in capsys.readouterr().err
