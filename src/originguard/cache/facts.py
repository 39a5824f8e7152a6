# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What the cache needs to know about a request or a response, read once from raw header lines.

Headers are `Sequence[tuple[bytes, bytes]]`: names as sent (any case), values without the line end,
exactly as the httptools-based engine collects them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from originguard.cache.directives import MAX_DELTA, NO_DIRECTIVES, CacheControl, parse_cache_control
from originguard.cache.directives import parse_targeted as _parse_targeted
from originguard.cache.httpdate import parse_http_date
from originguard.http.headers import HOP_BY_HOP as _HOP_BY_HOP

Headers: TypeAlias = Sequence[tuple[bytes, bytes]]

DEFAULT_TARGETED: Final = (b"originguard-cache-control", b"cdn-cache-control")
"""RFC 9213 §2.1 target list, most specific first: our own field, then the one every CDN obeys."""

# One list of RFC 9110 §7.6.1 fields for the whole project (the proxy paths strip the same ones).
HOP_BY_HOP: Final = _HOP_BY_HOP
"""RFC 9110 §7.6.1 connection-specific fields: never stored (RFC 9111 §3.1) nor merged."""

_REQUEST_FIELDS: Final = frozenset(
    {b"cache-control", b"pragma", b"authorization", b"if-none-match", b"if-modified-since", b"range"}
)


# Request fields after which a freshness check alone no longer decides a hit.
_NOT_PLAIN: Final = _REQUEST_FIELDS | {b"if-range"}


def is_plain(method: bytes, index: dict[bytes, tuple[bytes, ...]]) -> bool:
    """Does `RequestFacts.parse` say `plain` for this request, from its lower-cased header index
    (the hit path's question, answered with no pass over the fields)."""
    if method != b"GET" and method != b"HEAD":
        return False
    return all(name not in _NOT_PLAIN for name in index)  # compiled to a loop: no keys view


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """A viewer request as the cache sees it; `plain` means a freshness check alone decides a hit."""

    method: bytes
    cache_control: CacheControl = NO_DIRECTIVES
    authorization: bool = False
    if_none_match: bytes | None = None
    if_modified_since: bytes | None = None
    range: bytes | None = None
    if_range: bytes | None = None
    plain: bool = True

    @classmethod
    def parse(cls, method: bytes, headers: Headers) -> RequestFacts:
        """Read the cache-relevant request fields in one pass."""
        found: dict[bytes, list[bytes]] = {}
        if_range = None
        for raw_name, value in headers:
            name = raw_name.lower()
            if name in _REQUEST_FIELDS:
                found.setdefault(name, []).append(value)
            elif name == b"if-range":
                if_range = value.strip()
        if not found:
            # Shared instances: most requests carry none of these fields, and building a frozen
            # dataclass per request costs more than the whole cache hit.
            if method == b"GET":
                return PLAIN_GET
            if method == b"HEAD":
                return PLAIN_HEAD
            return cls(method, plain=False)
        cc_values = found.get(b"cache-control")
        if cc_values:
            cache_control = parse_cache_control(cc_values)
        elif any(b"no-cache" in v.lower() for v in found.get(b"pragma", ())):
            # RFC 9111 §5.4: Pragma: no-cache counts only when Cache-Control is absent.
            cache_control = CacheControl(no_cache=True)
        else:
            cache_control = NO_DIRECTIVES
        return cls(
            method=method,
            cache_control=cache_control,
            authorization=b"authorization" in found,
            if_none_match=_joined(found.get(b"if-none-match")),
            if_modified_since=_first(found.get(b"if-modified-since")),
            range=_first(found.get(b"range")),
            if_range=if_range,
            plain=False,
        )


PLAIN_GET: Final = RequestFacts(b"GET")
PLAIN_HEAD: Final = RequestFacts(b"HEAD", plain=False)


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    """An origin response as the cache sees it; `cache_control` is what applies to this edge."""

    status: int
    headers: Headers
    cache_control: CacheControl
    directives_from: bytes
    expires: float | None
    date: float | None
    age: int | None
    last_modified: float | None
    etag: bytes | None
    vary: tuple[bytes, ...]
    set_cookie: bool

    @classmethod
    def parse(
        cls, status: int, headers: Headers, targeted: Sequence[bytes] = DEFAULT_TARGETED
    ) -> ResponseFacts:
        """Read the cache-relevant response fields; `targeted` is the RFC 9213 list, first wins."""
        found: dict[bytes, list[bytes]] = {}
        for raw_name, value in headers:
            found.setdefault(raw_name.lower(), []).append(value)
        cache_control, directives_from = NO_DIRECTIVES, b""
        for name in targeted:
            for value in found.get(name, ()):
                parsed = _parse_targeted(value)
                if parsed is not None:
                    cache_control, directives_from = parsed, name
                    break
            if directives_from:
                break
        expires: float | None = None
        if not directives_from:
            # RFC 9213 §2.1: a valid targeted field replaces both Cache-Control and Expires.
            cache_control = parse_cache_control(found.get(b"cache-control", ()))
            directives_from = b"cache-control" if b"cache-control" in found else b""
            expires_values = found.get(b"expires")
            if expires_values:
                # RFC 9111 §5.3: an invalid Expires (e.g. "0") means "already expired".
                expires = parse_http_date(expires_values[0])
                expires = 0.0 if expires is None or len(expires_values) > 1 else expires
        return cls(
            status=status,
            headers=headers,
            cache_control=cache_control,
            directives_from=directives_from,
            expires=expires,
            date=_date(found.get(b"date")),
            age=_age(found.get(b"age")),
            last_modified=_date(found.get(b"last-modified")),
            etag=_first(found.get(b"etag")),
            vary=_vary(found.get(b"vary")),
            set_cookie=b"set-cookie" in found,
        )


def strip_for_viewer(
    headers: Headers, targeted: Sequence[bytes] = DEFAULT_TARGETED
) -> list[tuple[bytes, bytes]]:
    """The response headers minus the targeted cache-control fields, which are meant for us only."""
    return [(n, v) for n, v in headers if n.lower() not in targeted]


def connection_fields(headers: Headers) -> frozenset[bytes]:
    """Hop-by-hop fields plus any field named in Connection (RFC 9110 §7.6.1)."""
    listed = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return HOP_BY_HOP | listed if listed else HOP_BY_HOP


def _first(values: list[bytes] | None) -> bytes | None:
    """The first field line value, stripped."""
    return values[0].strip() if values else None


def _joined(values: list[bytes] | None) -> bytes | None:
    """All field line values combined into one list value (RFC 9110 §5.3)."""
    return b", ".join(v.strip() for v in values) if values else None


def _date(values: list[bytes] | None) -> float | None:
    """A single valid HTTP-date, else None."""
    return parse_http_date(values[0]) if values and len(values) == 1 else None


def _age(values: list[bytes] | None) -> int | None:
    """The Age value: the first member of the (combined) field; None when that is not a number."""
    # RFC 9111 §5.1: use the first member of a list-based value and ignore an invalid one ("abc",
    # "-7200", "7200.0") rather than guess an age. A parameter ("7200;x=y") is not delta-seconds
    # either, but its number is the sender's own claim: honouring it can only make us refetch sooner.
    if not values:
        return None
    first = values[0].split(b",", 1)[0].split(b";", 1)[0].strip()
    return min(int(first), MAX_DELTA) if first.isdigit() else None


def _vary(values: list[bytes] | None) -> tuple[bytes, ...]:
    """Lower-cased, de-duplicated, sorted Vary field names; (b"*",) when any member is "*"."""
    if not values:
        return ()
    names = {n.strip().lower() for v in values for n in v.split(b",")} - {b""}
    return (b"*",) if b"*" in names else tuple(sorted(names))
