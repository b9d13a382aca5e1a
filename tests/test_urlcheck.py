"""The remote media check: no credentials, no cross-origin redirect, public addresses only unless allowed, bounded."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.render.urlcheck import NetworkPolicy, address_problem, check_reachable, check_remote, remote_urls

LOOPBACK = NetworkPolicy(allow_hosts=frozenset({("127.0.0.1", None)}))


# --- a loopback media host that records what it was asked ---------------------------------------------


class Host:
    """A static host on 127.0.0.1: `routes` maps a path to (status, headers); every request is recorded."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str]]]) -> None:
        self.routes, self.requests = routes, []
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                host.requests.append((self.command, self.path, dict(self.headers)))
                status, headers = host.routes.get(self.path, (404, {}))
                if self.command == "HEAD" and "head" in headers:
                    status = int(headers["head"])
                self.send_response(status)
                for name, value in headers.items():
                    if name != "head":
                        self.send_header(name, value.replace("{origin}", host.origin))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_GET = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hosts() -> Iterator:
    started: list[Host] = []

    def start(routes: dict[str, tuple[int, dict[str, str]]]) -> Host:
        started.append(Host(routes))
        return started[-1]

    yield start
    for host in started:
        host.stop()


# --- the address policy (no network) -----------------------------------------------------------------


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fd00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("fec0::1", "site-local"), ("240.0.0.1", "private"),
    ("100.64.0.1", "non-public"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
])
def test_address_policy_names_every_non_public_kind(address: str, kind: str | None) -> None:
    assert address_problem(address) == kind


def test_policy_table_is_validated() -> None:
    assert NetworkPolicy.from_table({}) == NetworkPolicy()
    policy = NetworkPolicy.from_table({"allow_hosts": ["127.0.0.1:8765", "Media.LAN", "[::1]:9"]})
    assert policy.allows_host("127.0.0.1", 8765) and not policy.allows_host("127.0.0.1", 8766)
    assert policy.allows_host("media.lan", 443) and policy.allows_host("::1", 9)
    assert NetworkPolicy.from_table({"allow_private": True}).allows_host("10.0.0.1", 80)
    for bad in ({"allow_private": "yes"}, {"allow_hosts": "127.0.0.1"}, {"allow_hosts": ["a/b"]},
                {"allow_hosts": ["u:p@host"]}, {"allow_hosts": ["host:notaport"]}):
        with pytest.raises(ValueError, match=r"\[network\]"):
            NetworkPolicy.from_table(bad)


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["93.184.216.34", "169.254.169.254"], ["::ffff:127.0.0.1"]])
def test_a_name_resolving_to_any_non_public_address_is_refused_before_connecting(hosts, answer) -> None:
    host = hosts({"/a.jpg": (200, {})})
    port = host.origin.rsplit(":", 1)[1]
    problem = check_reachable(f"http://media.example:{port}/a.jpg", resolver=lambda name, p: answer)
    assert problem is not None and "which scenec does not contact" in problem and "media.example" in problem
    assert host.requests == []


def test_loopback_is_refused_by_default_and_the_message_says_how_to_allow_it(hosts) -> None:
    host = hosts({"/a.jpg": (200, {})})
    problem = check_reachable(f"{host.origin}/a.jpg")
    assert problem is not None and "loopback" in problem and "[network] allow_hosts" in problem
    assert host.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(hosts) -> None:
    # The name exists only in this resolver: reaching the host proves scenec connected to the checked address
    # itself rather than letting the connection resolve the name again (DNS rebinding).
    host = hosts({"/a.jpg": (200, {})})
    port = int(host.origin.rsplit(":", 1)[1])
    allowed = NetworkPolicy(allow_hosts=frozenset({("media.invalid", port)}))
    assert check_reachable(f"http://media.invalid:{port}/a.jpg", allowed,
                           resolver=lambda name, p: ["127.0.0.1"]) is None
    assert host.requests[0][2]["Host"] == f"media.invalid:{port}"


def test_a_resolver_that_never_answers_is_bounded() -> None:
    never = threading.Event()
    try:
        problem = check_reachable("http://slow.invalid/a.jpg", LOOPBACK, seconds=0.3,
                                  resolver=lambda name, port: never.wait(30) and [])
    finally:
        never.set()
    assert problem == "cannot be reached (no answer within 0.3 s)"


# --- asking an allowed loopback host -------------------------------------------------------------------


def test_an_answering_url_passes_and_a_missing_one_is_reported(hosts) -> None:
    host = hosts({"/a.jpg": (200, {})})
    assert check_reachable(f"{host.origin}/a.jpg", LOOPBACK) is None
    assert check_reachable(f"{host.origin}/gone.jpg", LOOPBACK) == "cannot be reached (HTTP 404)"
    assert [r[0] for r in host.requests] == ["HEAD", "HEAD"]


def test_a_host_refusing_head_is_asked_for_the_first_byte(hosts) -> None:
    host = hosts({"/a.jpg": (206, {"head": "405"})})
    assert check_reachable(f"{host.origin}/a.jpg", LOOPBACK) is None
    assert [r[0] for r in host.requests] == ["HEAD", "GET"] and host.requests[1][2]["Range"] == "bytes=0-0"


def test_no_credentials_are_sent_even_with_netrc_and_proxy_settings(hosts, tmp_path, monkeypatch) -> None:
    host = hosts({"/a.jpg": (200, {})})
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxy would fail the check
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert check_reachable(f"{host.origin}/a.jpg", LOOPBACK) is None
    sent = host.requests[0][2]
    assert not {"Authorization", "Cookie", "Proxy-Authorization"} & set(sent)
    problem = check_reachable(host.origin.replace("http://", "http://alice:s3cret@") + "/a.jpg", LOOPBACK)
    assert problem is not None and "user name or password" in problem
    assert len(host.requests) == 1


def test_same_origin_redirects_are_followed_within_a_bound(hosts) -> None:
    host = hosts({"/old.jpg": (301, {"Location": "/mid.jpg"}), "/mid.jpg": (307, {"Location": "{origin}/a.jpg"}),
                  "/a.jpg": (200, {}), "/loop": (302, {"Location": "/loop"})})
    assert check_reachable(f"{host.origin}/old.jpg", LOOPBACK) is None
    assert [r[1] for r in host.requests] == ["/old.jpg", "/mid.jpg", "/a.jpg"]
    assert check_reachable(f"{host.origin}/loop", LOOPBACK) == "cannot be reached (more than 5 redirects)"


def test_a_redirect_to_another_origin_is_reported_and_not_followed(hosts) -> None:
    other = hosts({"/secret": (200, {})})
    host = hosts({"/a.jpg": (302, {"Location": f"{other.origin}/secret"}),
                  "/b.jpg": (302, {"Location": "https://127.0.0.1" + host_port_of(other) + "/secret"}),
                  "/c.jpg": (302, {"Location": other.origin.replace("http://", "http://u:p@") + "/x"})})
    for path in ("/a.jpg", "/b.jpg", "/c.jpg"):
        problem = check_reachable(f"{host.origin}{path}", LOOPBACK)
        assert problem is not None and problem.startswith("redirects to another site (") and "not follow" in problem
    assert other.requests == []


def host_port_of(host: Host) -> str:
    return ":" + host.origin.rsplit(":", 1)[1]


def test_a_server_trickling_its_answer_cannot_stretch_the_check() -> None:
    stop = threading.Event()

    class Trickle(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.05):
                try:
                    self.request.sendall(b"a")
                except OSError:
                    return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        problem = check_reachable(f"http://127.0.0.1:{server.server_address[1]}/a.jpg", LOOPBACK, seconds=0.5)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    assert problem == "cannot be reached (no answer within 0.5 s)"


def test_a_closed_port_and_a_non_http_answer_are_problems_not_exceptions() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    problem = check_reachable(f"http://127.0.0.1:{port}/a.jpg", LOOPBACK)
    assert problem is not None and problem.startswith("cannot be reached (")
    for invalid in ("http://127.0.0.1:99999/a.jpg", "http://127.0.0.1:abc/a.jpg"):
        assert check_reachable(invalid, LOOPBACK).startswith("is not a valid URL")

    class Garbage(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(b"\x1b[2J hello\r\n\r\n")

    server = socketserver.TCPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        problem = check_reachable(f"http://127.0.0.1:{server.server_address[1]}/a.jpg", LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()
    assert problem == "cannot be reached (the answer is not HTTP)"


# --- the project's allowance -----------------------------------------------------------------------------


def payload(*urls: str) -> dict:
    return {"input": {"media": [{"type": "reference_image", "url": u} for u in urls]}}


def test_check_remote_reads_the_allowance_from_scenec_toml(hosts, tmp_path: Path) -> None:
    host = hosts({"/a.jpg": (200, {})})
    seen: list[str] = []
    problem = check_remote(payload(f"{host.origin}/a.jpg"), tmp_path, seen.append)
    assert problem is not None and "loopback" in problem and "--no-url-check" in problem and host.requests == []
    (tmp_path / "scenec.toml").write_text('[network]\nallow_hosts = ["127.0.0.1"]\n')
    assert check_remote(payload(f"{host.origin}/a.jpg"), tmp_path, seen.append) is None
    assert seen == [f"{host.origin}/a.jpg"] * 2 and len(host.requests) == 1
    (tmp_path / "scenec.toml").write_text("[network]\nallow_private = 1\n")
    assert "allow_private must be true or false" in check_remote(payload(f"{host.origin}/a.jpg"), tmp_path, seen.append)


def test_remote_urls_are_the_http_media_and_voices_once_each() -> None:
    body = {"input": {"media": [{"url": "https://a/x.jpg", "reference_voice": "http://a/v.mp3"},
                                {"url": "data:image/png;base64,AA"}, {"url": "https://a/x.jpg"}, {"url": "oss://k"}]}}
    assert remote_urls(body) == ["https://a/x.jpg", "http://a/v.mp3"]


@pytest.mark.parametrize(("url", "refused"), [
    ("https://alice:s3cret@example.com/a.jpg", True), ("https://alice@example.com/a.jpg", True),
    ("http://:@example.com/a.jpg", True), ("https://example.com/a@b.jpg", False),
    ("https://example.com/a.jpg?who=a@b", False), ("https://example.com/a.jpg#x@y", False),
])
def test_check_reports_credentials_in_a_url_at_its_line(url: str, refused: bool) -> None:
    from compiler.api import compile_text

    text = f"CAST\nMAYA: image {url}\n\nMAYA waves.\n"
    found = [d for d in compile_text(text, probe=False).diagnostics if d.code == "url-credentials"]
    assert [d.span.line for d in found] == ([2] if refused else [])
