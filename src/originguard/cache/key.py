# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Cache keys: host + path + the behaviour's query/header/cookie policy, and Vary secondary keys.

Key layout: `host` `/path` [`?query`] [`\\x00` extra...]. The host never holds "/", so the path part
of any key can be found again, which exact and prefix invalidation rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from originguard.cache.facts import Headers

_ABSENT: Final = b"\x01"
"""RFC 9111 §4.1: a field absent from the request matches only its absence, never an empty value."""

_CASE_INSENSITIVE: Final = frozenset({b"accept-encoding", b"accept-language", b"accept-charset"})
"""Fields whose values are case-insensitive tokens (RFC 9110 §8.4.1, §12.5.3-§12.5.4, RFC 4647 §2):
RFC 9111 §4.1 lets a cache match them after case normalisation. Order is kept: with equal weights
an origin may still prefer the first listed."""


class KeyPolicyLike(Protocol):
    """Anything shaped like config.edge.CacheKeyPolicy."""

    @property
    def query_strings(self) -> Literal["none", "all"] | list[str]: ...
    @property
    def headers(self) -> list[str]: ...
    @property
    def cookies(self) -> Literal["none", "all"] | list[str]: ...


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """A compiled cache key policy: what of the query, headers and cookies goes into the key."""

    query: Literal["none", "all"] | frozenset[bytes] = "all"
    headers: tuple[bytes, ...] = ()
    cookies: Literal["none", "all"] | frozenset[bytes] = "none"

    @classmethod
    def from_config(cls, policy: KeyPolicyLike) -> KeyPolicy:
        """Compile a behaviour's `cache_key` block once, at load."""
        return cls(
            query=_names(policy.query_strings, lower=False),
            headers=tuple(sorted({h.lower().encode() for h in policy.headers})),
            cookies=_names(policy.cookies, lower=False),
        )


def cache_key(host: bytes, path: bytes, query: bytes | None, headers: Headers, policy: KeyPolicy) -> bytes:
    """The primary cache key; scheme and port are left out so http and https share entries."""
    key = _host(host) + path
    if query and policy.query != "none":
        if policy.query != "all":
            # Whitelisted parameters are sorted so "?b=2&a=1" and "?a=1&b=2" share an entry.
            wanted = policy.query
            query = b"&".join(sorted(p for p in query.split(b"&") if p.partition(b"=")[0] in wanted))
        if query:
            key += b"?" + query
    if not policy.headers and policy.cookies == "none":
        return key
    extra = [b"h:" + name + b"=" + _field_value(name, headers) for name in policy.headers]
    if policy.cookies != "none":
        cookies = _cookies(headers, policy.cookies)
        extra.append(b"c:" + b";".join(cookies))
    return key + b"\x00" + b"\x00".join(extra)


def vary_key(fields: Sequence[bytes], headers: Headers) -> bytes:
    """The secondary key of a request for a response that varies on `fields` (RFC 9111 §4.1)."""
    return b"\x00".join(_field_value(name, headers) for name in fields)


def split_key(key: bytes) -> tuple[bytes, bytes]:
    """(host, path with query) of a primary key."""
    start = key.find(b"/")
    if start < 0:
        return key, b""
    end = key.find(b"\x00", start)
    return key[:start], key[start:] if end < 0 else key[start:end]


def normalize_host(host: bytes) -> bytes:
    """Lower-case host without port, as keys hold it."""
    return _host(host)


def _host(host: bytes) -> bytes:
    """Lower-case host, port dropped (IPv6 literals keep their brackets)."""
    known = _HOSTS.get(host)
    if known is not None:
        return known
    if len(_HOSTS) >= _HOSTS_KEPT:
        _HOSTS.clear()  # Host is the viewer's to choose: the memo must stay bounded
    normalized = _HOSTS[host] = _normalize(host)
    return normalized


# Host → key form: a site sees few distinct Host values, and five method calls per hit add up.
_HOSTS: dict[bytes, bytes] = {}
_HOSTS_KEPT: Final = 4096


def _normalize(host: bytes) -> bytes:
    host = host.strip().lower()
    name, colon, port = host.rpartition(b":")
    if colon and port.isdigit() and (not name.startswith(b"[") or name.endswith(b"]")):
        return name
    return host


def _field_value(name: bytes, headers: Headers) -> bytes:
    """All lines of field `name` combined, whitespace around list commas removed (RFC 9111 §4.1)."""
    values = [v for n, v in headers if n.lower() == name]
    if not values:
        return _ABSENT
    joined = b",".join(part.strip() for v in values for part in v.split(b","))
    return joined.lower() if name in _CASE_INSENSITIVE else joined


def _cookies(headers: Headers, wanted: Literal["all"] | frozenset[bytes]) -> list[bytes]:
    """Sorted `name=value` cookies of the request that the key policy names."""
    pairs = [
        part.strip() for n, v in headers if n.lower() == b"cookie" for part in v.split(b";") if part.strip()
    ]
    if wanted != "all":
        pairs = [p for p in pairs if p.partition(b"=")[0] in wanted]
    return sorted(pairs)


def _names(
    setting: Literal["none", "all"] | list[str], *, lower: bool
) -> Literal["none", "all"] | frozenset[bytes]:
    """A none/all switch or a whitelist of names as bytes."""
    if setting == "none" or setting == "all":
        return setting
    return frozenset((n.lower() if lower else n).encode() for n in setting)
