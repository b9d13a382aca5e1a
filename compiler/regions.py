"""The DashScope regions as data: each region's names, its hosts (legacy and workspace-scoped), and the one
spelling of an endpoint that render identities and the upload cache are keyed by.

Sources (shared/reference/targets.md section 6, dashscope-r2v-api.md): [w27] the wan2.7 reference,
[off] Alibaba's Model Studio pages, [wan3] the Wan 3.0 page, [sdk] the `dashscope` 2.0.2 SDK's
`v2/_config.py`.  Foundation layer: imports nothing from the compiler but records, so the configuration
check (config.py), the renderer and the targets all read the same table.  `scenec check` loads it (through
project.py), so the URL modules are imported by the functions that read URLs, not here.
"""

from __future__ import annotations

import re

from .records import Record
from .source import clipped

__all__ = ["Region", "REGION_TABLE", "REGION_NAMES", "REGION_ALIASES", "DEFAULT_REGION", "WORKSPACE_HOST",
           "WORKSPACE_HEADER", "WORKSPACE_VARIABLES", "region_named", "region_name", "base_url", "canonical_base",
           "workspace_problem", "workspace_of", "serves", "unavailable_text", "endpoint_region"]

# The workspace-scoped host Alibaba now recommends; the paths are the same as on the legacy hosts [off].
WORKSPACE_HOST = "https://{workspace}.{region_id}.maas.aliyuncs.com/api/v1"
WORKSPACE_HEADER = "X-DashScope-WorkSpace"  # sent with every API request when a workspace is chosen [sdk]
# Where a workspace comes from in the environment, first that is set wins: ours, then the SDK 2.0's and
# the SDK 1.x's names for it [sdk], so a shell set up for the SDK works unchanged.
WORKSPACE_VARIABLES = ("SCENEC_WORKSPACE", "DASHSCOPE_WORKSPACE", "DASHSCOPE_WORKSPACE_ID")

_BEIJING_LEGACY = "https://dashscope.aliyuncs.com/api/v1"
_SINGAPORE_LEGACY = "https://dashscope-intl.aliyuncs.com/api/v1"
_US_LEGACY = "https://dashscope-us.aliyuncs.com/api/v1"


class Region(Record):
    """One DashScope region: what we and users call it, and where its API is."""

    name: str                    # ours: --region, SCENEC_REGION, `region` in scenec.toml, a target's regions
    region_id: str               # Alibaba Cloud's id, also the workspace host's middle label
    aliases: tuple[str, ...]     # what users type besides the name (the id is always one)
    legacy_base: str             # the base URL without a workspace
    legacy_is_own: bool          # False: no legacy host of its own; the SDK sends to Singapore's [sdk][unsettled]
    workspace_listed: bool       # an [off] page lists its workspace-scoped host
    verified: bool               # our sources name a host serving this region (not a fallback or a guess)
    source: str                  # the citation for the row

    def workspace_base(self, workspace: str) -> str:
        return WORKSPACE_HOST.format(workspace=workspace, region_id=self.region_id)


_FALLBACK = "without a workspace the SDK sends it to Singapore's legacy host [sdk][unsettled]"
REGION_TABLE: tuple[Region, ...] = (
    Region("beijing", region_id="cn-beijing", aliases=("cn-beijing",), legacy_base=_BEIJING_LEGACY,
           legacy_is_own=True, workspace_listed=True, verified=True,
           source="[w27] legacy host; [off] workspace host"),
    Region("singapore", region_id="ap-southeast-1", aliases=("ap-southeast-1", "intl"), legacy_base=_SINGAPORE_LEGACY,
           legacy_is_own=True, workspace_listed=True, verified=True,
           source="[w27] legacy host; [off] workspace host"),
    Region("us", region_id="us-east-1", aliases=("us-east-1", "virginia"), legacy_base=_US_LEGACY,
           legacy_is_own=True, workspace_listed=True, verified=True,
           source="[w27] legacy host; workspace host on some [off] pages and [wan3]"),
    Region("hongkong", region_id="cn-hongkong", aliases=("cn-hongkong", "hk"), legacy_base=_SINGAPORE_LEGACY,
           legacy_is_own=False, workspace_listed=True, verified=True,
           source=f"workspace host on some [off] pages and [wan3]; {_FALLBACK}"),
    Region("frankfurt", region_id="eu-central-1", aliases=("eu-central-1",), legacy_base=_SINGAPORE_LEGACY,
           legacy_is_own=False, workspace_listed=False, verified=False,
           source=f"known to the SDK only; no page lists its workspace host [unsettled]; {_FALLBACK}"),
    Region("tokyo", region_id="ap-northeast-1", aliases=("ap-northeast-1",), legacy_base=_SINGAPORE_LEGACY,
           legacy_is_own=False, workspace_listed=False, verified=False,
           source=f"known to the SDK only; no page lists its workspace host [unsettled]; {_FALLBACK}"),
)

REGION_NAMES: tuple[str, ...] = tuple(region.name for region in REGION_TABLE)
REGION_ALIASES: dict[str, str] = {alias: region.name for region in REGION_TABLE for alias in region.aliases}
DEFAULT_REGION = "beijing"  # the SDK's default host [sdk]

_BY_NAME = {region.name: region for region in REGION_TABLE}
_BY_ID = {region.region_id: region for region in REGION_TABLE}
# A host name's label: letters, digits, inner hyphens, at most 63 characters (RFC 1123).  Patterns as text:
# re compiles (and caches) them at first use, not when `scenec check` loads this module.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_WORKSPACE_HOST_NAME = r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.([a-z0-9-]+)\.maas\.aliyuncs\.com"


def region_named(text: str | None) -> Region | None:
    """The region a name or alias means (any case, spaces around), else None."""
    if text is None:
        return None
    name = text.strip().lower()
    return _BY_NAME.get(REGION_ALIASES.get(name, name))


def region_name(text: str) -> str:
    """Our name of the region a name or alias means ("cn-hongkong" -> "hongkong"); an unknown one as written,
    lower-cased (it prices nothing)."""
    known = region_named(text)
    return known.name if known is not None else text.strip().lower()


def workspace_problem(workspace: str) -> str | None:
    """Why a workspace id cannot be used (it becomes a host name's label), or None when it can."""
    if re.fullmatch(_LABEL, workspace):
        return None
    return (f"workspace {clipped(workspace)!r} is not a workspace id: it is put in a host name, so it takes "
            "letters, digits and inner hyphens only, at most 63 characters (the id the Model Studio console shows, "
            "like llm-abc123)")


def base_url(region: Region, workspace: str | None) -> str:
    """The region's API base URL: its workspace-scoped host with a workspace, else its legacy host.
    Raises ValueError for a workspace id that cannot be a host label, and for a region without a legacy host
    of its own when no workspace is given."""
    if workspace is None:
        if not region.legacy_is_own:
            # The SDK would send it to Singapore's host: a render asked of Hong Kong would run (and bill) in
            # Singapore, and a model Hong Kong serves may not be served there.  Said, not done silently.
            raise ValueError(f"region {region.name} has no API host of its own: pass --workspace ID (its "
                             f"workspace host, {WORKSPACE_HOST.format(workspace='ID', region_id=region.region_id)}), "
                             "or --region singapore for Singapore's")
        return region.legacy_base
    problem = workspace_problem(workspace)
    if problem:
        raise ValueError(problem)
    return region.workspace_base(workspace)


def workspace_of(url: str) -> str | None:
    """The workspace a known region's workspace-scoped base URL names, else None."""
    import urllib.parse

    found = _workspace_host(urllib.parse.urlsplit(url.strip()).hostname or "")
    return found[0] if found else None


def _workspace_host(host: str) -> tuple[str, Region] | None:
    matched = re.fullmatch(_WORKSPACE_HOST_NAME, host.lower().rstrip("."))
    region = _BY_ID.get(matched.group(2)) if matched else None
    return (matched.group(1), region) if matched and region else None


# --- the one spelling of an endpoint ---------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def canonical_base(url: str) -> str:
    """The one spelling of an API base URL that render identities and the upload cache are keyed by.

    Scheme and host case, a default port, trailing or doubled slashes, user info and the loopback aliases
    (localhost, 127.0.0.1, 127.1, ::1) do not make another endpoint; nor does the workspace: a known
    region's workspace-scoped host is that region's legacy base URL, so a render sent through either has one
    identity.  A region without a legacy host of its own keys as `https://{region id}.maas.aliyuncs.com/api/v1`
    (a key, not an address): Singapore's host, where the SDK sends it, may be another service [unsettled].
    """
    import urllib.parse

    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _canonical_host((parts.hostname or "").rstrip("."))
    try:
        port, port_readable = parts.port, True
    except ValueError:
        port, port_readable = None, False
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    region = _region_of_workspace_url(scheme, host, port if port_readable else -1, path, parts.query)
    if region is not None:
        return region.legacy_base if region.legacy_is_own else f"https://{region.region_id}.maas.aliyuncs.com/api/v1"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urllib.parse.urlunsplit((scheme, netloc, path, parts.query, ""))


def _region_of_workspace_url(scheme: str, host: str, port: int | None, path: str, query: str) -> Region | None:
    """The region whose workspace-scoped base URL this is, exactly (https, default port, /api/v1), else None:
    another path or port (or one that is no number, -1) on that host is another endpoint, kept apart."""
    found = _workspace_host(host)
    plain = scheme == "https" and port in (None, 443) and path == "/api/v1" and not query
    return found[1] if found and plain else None


def _canonical_host(host: str) -> str:
    import ipaddress
    import socket

    if host in _LOOPBACK_NAMES:
        return "localhost"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        if not re.fullmatch(r"[0-9a-fx.]+", host):
            return host
        try:  # the short and hex forms inet_aton reads: 127.1, 0x7f.0.0.1
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")):
        return "localhost"
    return str(address)


# --- which models a region serves ---------------------------------------------------------------------


def endpoint_region(url: str) -> str | None:
    """The region whose service a base URL reaches (its legacy host or its workspace-scoped host), else None: a
    proxy, a test server or any other custom --base-url.  A region without a legacy host of its own is reached
    only through its workspace host; its SDK fallback, Singapore's legacy host, is Singapore."""
    canonical = canonical_base(url)
    for region in REGION_TABLE:
        own_key = region.legacy_base if region.legacy_is_own else f"https://{region.region_id}.maas.aliyuncs.com/api/v1"
        if canonical == own_key:
            return region.name
    return None


def serves(target_regions: tuple[str, ...], region_name: str | None) -> bool:
    """Whether a target listed in `target_regions` (region names) is served in `region_name`.  An endpoint of
    no known region (None: a proxy, a test server, a custom --base-url) is never refused, nor a name this
    table does not know (config.py reports that elsewhere)."""
    region = region_named(region_name)
    return region is None or region.name in target_regions


def unavailable_text(model: str, region: str, target_regions: tuple[str, ...]) -> str:
    """What to say when a model is not served in the chosen region, and which --region would do."""
    listed = [name for name in REGION_NAMES if name in target_regions]
    if not listed:
        return f"{model} is not served in any region scenec knows"
    where = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    shown = region_named(region)
    asked = shown.name if shown else region
    return f"{model} is served only in {where}, not in {asked}; pass --region {listed[0]}"
