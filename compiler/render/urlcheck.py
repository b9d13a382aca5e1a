"""Remote media checks before a submit: does each http(s) URL of a scene answer?

Asked carefully, because the URLs come from scene and cast files that other people write:

- no credentials: a URL with a user name or password is refused (check.py reports it at its line),
  the request carries no Authorization header, and neither .netrc nor proxy settings are read;
- no redirect to another origin (scheme, host, port): same-origin redirects are followed by hand,
  at most MAX_REDIRECTS; a redirect elsewhere is the problem reported;
- public addresses only: the host is resolved here, every address it resolves to is checked, and
  the connection goes to an address that was checked (so a second DNS answer cannot swap in
  another); loopback, private, link-local, multicast, reserved and unspecified addresses (and IPv4
  ones mapped into IPv6) are refused unless scenec.toml allows them ([network], NetworkPolicy);
- time-bounded: resolving, connecting, TLS, every redirect and every byte of the answers share one
  deadline per URL (CHECK_SECONDS).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx

from compiler import __version__

__all__ = ["remote_urls", "check_reachable", "check_remote", "NetworkPolicy", "address_problem",
           "system_resolver", "CHECK_SECONDS", "MAX_REDIRECTS"]

CHECK_SECONDS = 15.0  # everything one URL's check may take
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)

Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses as text


def remote_urls(payload: Mapping[str, Any], schemes: tuple[str, ...] = ("http://", "https://")) -> list[str]:
    """The media and voice URLs of a payload with one of these schemes (http(s) unless told), once each, in
    media order: wherever its model's target puts them (`Target.media_slots`)."""
    from compiler import targets

    found: list[str] = []
    for slot in targets.target_of(str(payload.get("model") or "")).media_slots(payload):
        if slot.url.startswith(schemes) and slot.url not in found:
            found.append(slot.url)
    return found


# --- which hosts may be asked ---------------------------------------------------------------------


_ADDRESS_KINDS = (("unspecified", "is_unspecified"), ("loopback", "is_loopback"), ("link-local", "is_link_local"),
                  ("multicast", "is_multicast"), ("private", "is_private"), ("site-local", "is_site_local"),
                  ("reserved", "is_reserved"))


def address_problem(text: str) -> str | None:
    """Why an IP address is not a public one ("loopback", "private", ...), or None when it is."""
    address = ipaddress.ip_address(text.partition("%")[0])  # an IPv6 scope (%eth0) says nothing of the kind
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d reaches a.b.c.d
            return address_problem(str(address.ipv4_mapped))
        embedded = address.sixtofour and address_problem(str(address.sixtofour))
        if embedded:
            return embedded
    for kind, attribute in _ADDRESS_KINDS:
        if getattr(address, attribute, False):
            return kind
    return None if address.is_global else "non-public"


@dataclass(frozen=True)
class NetworkPolicy:
    """Which non-public hosts the check may contact: scenec.toml's `[network]` table.

    `allow_private = true` allows every address; `allow_hosts = ["127.0.0.1:8765", "media.lan"]`
    allows those hosts as written in the URL (with a port, only that port).
    """

    allow_private: bool = False
    allow_hosts: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> NetworkPolicy:
        """Read a `[network]` table; ValueError says what is wrong with it."""
        private = table.get("allow_private", False)
        hosts = table.get("allow_hosts", [])
        if not isinstance(private, bool):
            raise ValueError("scenec.toml: [network] allow_private must be true or false")
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise ValueError('scenec.toml: [network] allow_hosts must be a list of "host" or "host:port" strings')
        return cls(private, frozenset(_host_and_port(h) for h in hosts))

    @classmethod
    def of_project(cls, root: Path) -> NetworkPolicy:
        from compiler.project import CONFIG_NAME, Project

        config = root / CONFIG_NAME
        return cls.from_table(Project(root, config if config.is_file() else None).section("network"))

    def allows_host(self, host: str, port: int) -> bool:
        return self.allow_private or (host, None) in self.allow_hosts or (host, port) in self.allow_hosts


def _host_and_port(entry: str) -> tuple[str, int | None]:
    try:
        url = httpx.URL(f"http://{entry.strip()}")
        if url.host and url.raw_path == b"/" and not url.userinfo:
            return url.raw_host.decode("ascii"), url.port
    except (httpx.InvalidURL, ValueError):
        pass
    raise ValueError(f'scenec.toml: [network] allow_hosts: {entry!r} is not a "host" or "host:port"')


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, as the operating system resolves them (each once, in its order)."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


class Refused(Exception):
    """The host is not one the check may contact; nothing was sent to it."""


# --- one deadline for everything --------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock, self._end = clock, clock() + seconds
        self.seconds = seconds

    def left(self, cap: float | None = None) -> float:
        """Seconds left (at most `cap`); a timeout once none are."""
        left = self._end - self._clock()
        if left <= 0:
            raise httpcore.ReadTimeout("out of time")
        return left if cap is None else min(cap, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the URL's deadline: a server that
    trickles its answer a byte at a time cannot stretch the check."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadline.left(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses the policy allows, to the very address it checked."""

    def __init__(self, policy: NetworkPolicy, resolver: Resolver, deadline: _Deadline) -> None:
        self._policy, self._resolver, self._deadline = policy, resolver, deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in self._addresses(host, port):
            try:
                stream = super().connect_tcp(address, port, self._deadline.left(timeout), local_address,
                                             socket_options)
            except httpcore.ConnectError as error:
                failure = error
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def _addresses(self, host: str, port: int) -> list[str]:
        addresses = _resolve_within(self._resolver, host, port, self._deadline)
        if self._policy.allows_host(host, port):
            return addresses
        for address in addresses:
            kind = address_problem(address)
            if kind:
                shown = host if host == address else f"{host} ({address})"
                raise Refused(f"is on a {kind} address, {shown}, which scenec does not contact unless scenec.toml "
                              f'allows it ([network] allow_hosts = ["{_entry(host, port)}"])')
        return addresses


def _entry(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _resolve_within(resolver: Resolver, host: str, port: int, deadline: _Deadline) -> list[str]:
    """Resolve on a helper thread, so a resolver that does not answer cannot outlast the deadline."""
    answer: list[list[str] | OSError | UnicodeError] = []

    def run() -> None:
        try:
            answer.append(resolver(host, port))
        except (OSError, UnicodeError) as error:
            answer.append(error)

    worker = threading.Thread(target=run, name="scenec-resolve", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if not answer:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long")
    found = answer[0]
    if isinstance(found, Exception):
        raise httpcore.ConnectError(f"{host} does not resolve")
    return found


# --- the check -----------------------------------------------------------------------------------------


_FAILURES = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
             httpcore.ProxyError, OSError)


def check_reachable(url: str, policy: NetworkPolicy = NetworkPolicy(), *, resolver: Resolver = system_resolver,
                    seconds: float = CHECK_SECONDS, clock: Callable[[], float] = time.monotonic) -> str | None:
    """Why a remote medium cannot be fetched (a phrase to follow the URL), or None when it can.

    HEAD, else the first byte by GET where a host refuses HEAD. The service would fail the task on an
    unreachable URL; finding out first costs a request or two.
    """
    try:
        target = httpx.URL(url)
        if not 0 < (target.port or 1) < 65536:
            raise ValueError(f"port {target.port} is out of range")
    except (httpx.InvalidURL, ValueError) as error:
        return f"is not a valid URL ({error})"
    if target.userinfo:
        return "carries a user name or password, which scenec never sends"
    deadline = _Deadline(seconds, clock)
    backend = _CheckedBackend(policy, resolver, deadline)
    with httpcore.ConnectionPool(network_backend=backend, retries=0) as pool:
        try:
            status = _ask(pool, "HEAD", target, deadline)
            if isinstance(status, int) and status in (403, 405, 501):  # some hosts refuse HEAD but serve GET
                status = _ask(pool, "GET", target, deadline)
        except Refused as refused:
            return str(refused)
        except _FAILURES as error:
            return _failure(error, deadline)
    if isinstance(status, str):
        return status
    return None if status < 400 else f"cannot be reached (HTTP {status})"


def _ask(pool: httpcore.ConnectionPool, method: str, url: httpx.URL, deadline: _Deadline) -> int | str:
    """The final status after same-origin redirects, or a phrase saying why the chain was not followed."""
    for _ in range(MAX_REDIRECTS + 1):
        status, location = _request(pool, method, url, deadline)
        if status not in _REDIRECTS or location is None:
            return status
        try:
            following = url.join(location)
        except (httpx.InvalidURL, ValueError):
            return f"cannot be reached (HTTP {status} to an invalid address)"
        if _origin(following) != _origin(url) or following.userinfo:
            return (f"redirects to another site ({following}), which scenec does not follow; "
                    "write that URL in the scene if you trust it")
        url = following
    return f"cannot be reached (more than {MAX_REDIRECTS} redirects)"


def _request(pool: httpcore.ConnectionPool, method: str, url: httpx.URL, deadline: _Deadline) -> tuple[int, str | None]:
    seconds = deadline.left()
    headers = [(b"Host", url.netloc), (b"User-Agent", f"scenec/{__version__} (media check)".encode()),
               (b"Accept", b"*/*")]
    if method == "GET":
        headers.append((b"Range", b"bytes=0-0"))
    core_url = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
    timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
    with pool.stream(method, core_url, headers=headers, extensions={"timeout": timeouts}) as response:
        location = next((v for k, v in response.headers if k.lower() == b"location"), None)
        return response.status, location.decode("latin-1") if location is not None else None


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.raw_host, url.port or default


def _failure(error: Exception, deadline: _Deadline) -> str:
    if isinstance(error, httpcore.TimeoutException):
        return f"cannot be reached (no answer within {deadline.seconds:g} s)"
    if isinstance(error, httpcore.ProtocolError):
        return "cannot be reached (the answer is not HTTP)"
    if isinstance(error, httpcore.UnsupportedProtocol):
        return "cannot be reached (not an http(s) URL)"
    return f"cannot be reached ({error or type(error).__name__})"


def check_remote(payload: Mapping[str, Any], project_root: Path, on_check: Callable[[str], None], *,
                 resolver: Resolver = system_resolver, seconds: float = CHECK_SECONDS) -> str | None:
    """Check every remote URL of a payload under the project's policy; the first problem, or None."""
    try:
        policy = NetworkPolicy.of_project(project_root)
    except ValueError as error:
        return f"{error}; nothing was submitted"
    for url in remote_urls(payload):
        on_check(url)
        problem = check_reachable(url, policy, resolver=resolver, seconds=seconds)
        if problem:
            return f"{url} {problem}; nothing was submitted (--no-url-check skips this check)"
    return None
