# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What the WAF inspects (`WafRequest`) and how it pulls fields out of it.

Every field is a tuple of strings (a header may repeat, a query has many arguments); a statement matches
when any element matches, and `Match.index` says which one, so a log can name the exact header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple, TypeVar, cast

from originguard.waf.transforms import url_decode


class WafRequest:
    """One viewer request as the edge saw it: raw (undecoded) path and query, lower-case header names.

    Read-only by contract. Not a frozen dataclass: the edge builds one per request, and a frozen
    dataclass cost ~0.9 µs to build (a guarded `__setattr__` per field), plain slots ~0.2 µs (measured).
    """

    __slots__ = (
        "_headers",
        "_json",
        "_path",
        "_raw_headers",
        "_raw_path",
        "body",
        "body_truncated",
        "client_ip",
        "crs_findings",
        "method",
        "protocol",
        "query",
        "target",
    )

    method: str
    query: str
    client_ip: str
    body: bytes
    body_truncated: bool
    # Decoded on first use when built `from_raw` (None until then).
    _path: str | None
    _raw_path: bytes
    _headers: tuple[tuple[str, str], ...] | None
    _raw_headers: Sequence[tuple[bytes, bytes]]
    _json: Any  # what `parsed_body` computed, None until then
    # The request-target exactly as sent and the protocol (b"" / HTTP/1.1 when built from parts):
    # the OWASP CRS rules read REQUEST_LINE and REQUEST_URI_RAW, which path + query cannot rebuild.
    target: bytes
    protocol: bytes
    # (rule name, waf.crs_match.CrsFinding) of each OWASP CRS group that matched, for count logs.
    crs_findings: list[tuple[str, Any]] | None

    def __init__(
        self,
        method: str,
        path: str | None,
        query: str,
        headers: tuple[tuple[str, str], ...] | None,
        client_ip: str,
        body: bytes = b"",
        body_truncated: bool = False,
        raw_path: bytes = b"",
        raw_headers: Sequence[tuple[bytes, bytes]] = (),
        target: bytes = b"",
        protocol: bytes = b"HTTP/1.1",
    ) -> None:
        # `path` / `headers` None: decoded from `raw_path` / `raw_headers` on first read.
        self.method = method
        self._path = path
        self._raw_path = raw_path
        self.query = query
        self._headers = headers
        self._raw_headers = raw_headers
        self._json = None
        self.client_ip = client_ip
        self.body = body
        self.body_truncated = body_truncated
        self.target = target
        self.protocol = protocol
        self.crs_findings = None

    @classmethod
    def from_raw(
        cls,
        method: bytes,
        path: bytes,
        query: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        client_ip: str,
        body: bytes,
        body_truncated: bool,
        target: bytes = b"",
        protocol: bytes = b"HTTP/1.1",
    ) -> WafRequest:
        """The request from the edge's raw bytes: latin-1 (one char per byte), header names lower-cased.

        `headers` is kept, not copied, and decoded only if a rule or a log reads it: the caller must not
        change it while it uses the request (the edge drops the request when `inspect` returns).
        """
        # The default ACL (sqli on the query, a rate per address) reads neither the path nor a header:
        # decoding them (~1.5 µs for a browser's 7 headers) waits until something does.
        name = _METHODS.get(method)  # a dict hit costs half a decode
        # WafRequest, not cls: compiled, a direct constructor call; cls(...) is a generic type call
        # (about 900 instructions more). Nothing subclasses it.
        return WafRequest(
            method.decode("latin-1") if name is None else name,
            None,
            query.decode("latin-1"),
            None,
            client_ip,
            body,
            body_truncated,
            path,
            headers,
            target,
            protocol,
        )

    @property
    def path(self) -> str:
        """The raw (undecoded) path."""
        path = self._path
        if path is None:
            path = self._path = self._raw_path.decode("latin-1")
        return path

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Every header as (lower-case name, value), in order."""
        headers = self._headers
        if headers is None:
            raw = self._raw_headers
            headers = self._headers = tuple(
                [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw]
            )
        return headers

    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """The headers as received (original case and order) when built `from_raw`, else encoded."""
        if self._raw_headers or self._headers is None:
            return tuple(self._raw_headers)
        return tuple([(name.encode("latin-1"), value.encode("latin-1")) for name, value in self._headers])

    def raw_target(self) -> bytes:
        """The request-target as sent; rebuilt from path and query when not known."""
        if self.target:
            return self.target
        path = self._raw_path or self.path.encode("latin-1")
        return path + b"?" + self.query.encode("latin-1") if self.query else path

    def parsed_body(self, parse: Callable[[bytes], T]) -> T:
        """`parse(self.body)`, computed once per request: the body rule and json_values share a parse."""
        found = self._json
        if found is None:
            found = self._json = parse(self.body)
        return cast(T, found)

    def header_values(self, name: str) -> tuple[str, ...]:
        """All values of header `name` (lower-case), in order."""
        return tuple([v for n, v in self.headers if n == name])

    def _fields(self) -> tuple[object, ...]:
        return (
            self.method,
            self.path,
            self.query,
            self.headers,
            self.client_ip,
            self.body,
            self.body_truncated,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WafRequest):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        method, path, query, headers, client_ip, body, truncated = self._fields()
        return (
            f"WafRequest(method={method!r}, path={path!r}, query={query!r}, headers={headers!r}, "
            f"client_ip={client_ip!r}, body={body!r}, body_truncated={truncated!r})"
        )


T = TypeVar("T")
_METHODS: Final = {
    name.encode(): name for name in ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE")
}


class Match(NamedTuple):
    """Where a statement matched: field label (`query`, `header:user-agent`), value seen, and why."""

    # A named tuple, not a frozen dataclass: count rules (a geo label on every request) build one per
    # request and drop it, and a frozen dataclass cost ~0.45 µs to build, a named tuple ~0.15 µs.

    field: str
    value: str
    detail: str = ""
    crs: Any = None  # a waf.crs_match.CrsFinding when the OWASP CRS matched (rule ids, score)


FieldValues = tuple[str, ...]
_EMPTY: Final[FieldValues] = ()


def query_pairs(query: str) -> list[tuple[str, str]]:
    """`a=1&b=2` as raw (name, value) pairs; the name is decoded for lookup, the value is left raw."""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((url_decode(name), value))
    return pairs


def query_values(query: str) -> FieldValues:
    """The raw value of every argument (all_query_args): `query_pairs` without decoding the names."""
    return tuple([part.partition("=")[2] for part in query.split("&") if part])


def query_index(query: str) -> dict[str, FieldValues]:
    """Raw values of each argument by lower-case decoded name, in order (query_arg fields read this)."""
    # `query_pairs` written out, decoding only names with an escape: every request with a query builds
    # this for the query_arg rules (1.9 -> 1.0 µs measured on a 3-argument query).
    index: dict[str, FieldValues] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = url_decode(name)
        key = name.lower()
        found = index.get(key)
        index[key] = (value,) if found is None else (*found, value)
    return index


def query_parts(query: str) -> FieldValues:
    """Every raw argument name and value: detectors judge each alone, as the application will."""
    out: list[str] = []
    for part in query.split("&"):
        if part:
            name, sep, value = part.partition("=")
            out.append(name)
            if sep:
                out.append(value)
    return tuple(out)


def cookie_values(request: WafRequest) -> FieldValues:
    """The values of every cookie in every Cookie header (RFC 6265 §5.4 `name=value; ...`)."""
    return cookie_crumbs(request.header_values("cookie"))


def cookie_crumbs(headers: FieldValues) -> FieldValues:
    """The cookie values in these Cookie header values."""
    return tuple([crumb.strip().partition("=")[2] for header in headers for crumb in header.split(";")])


def header_index(headers: tuple[tuple[str, str], ...]) -> dict[str, FieldValues]:
    """Header values by (lower-case) name, in order: one pass for every header field of an ACL."""
    # Repeated names are rare: one comprehension (~1 µs less for a browser's headers), else the loop.
    unique: dict[str, FieldValues] = {name: (value,) for name, value in headers}
    if len(unique) == len(headers):
        return unique
    index: dict[str, FieldValues] = {}
    for name, value in headers:
        found = index.get(name)
        index[name] = (value,) if found is None else (*found, value)
    return index
