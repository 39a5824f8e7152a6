# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""An HTTP/2 request's decoded field list -> the `http.message.Request` the HTTP/1.1 path gives apps.

The same request rules as HTTP/1.1 (`http.request_checks.check_head` runs on the result), after
the HTTP/2 ones (RFC 9113 §8.1.1, §8.2, §8.3.1). Two kinds of refusal, as the RFC splits them:
- a malformed message (upper-case or invalid names, bad values, pseudo-header misuse, a
  connection-specific field, TE other than `trailers`, a bad content-length) is a stream error
  of type PROTOCOL_ERROR: an `H2Error` naming the stream, answered with RST_STREAM;
- a well-formed request that HTTP/1.1 would refuse (no or two hosts, too large, a target form
  we refuse, CONNECT) is a `ProtocolError`: the stream gets its 4xx, as an HTTP/1.1 viewer would.
The result carries a `host` field (from `:authority` when no Host came) first, so a proxy that
forwards the viewer's Host finds one, and cookies joined into one field (§8.2.3).
"""

from __future__ import annotations

from typing import Final

from originguard.errors import BadRequest, H2Error, HeadersTooLarge, UriTooLong
from originguard.http.field_names import UnderscorePolicy, kept_fields
from originguard.http.message import Request
from originguard.http.request_checks import HeaderIndex, check_head, index_headers

Header = tuple[bytes, bytes]

VERSION: Final = b"2.0"  # what `Request.version` says: logs print HTTP/2.0, as nginx does
PROTOCOL_ERROR: Final = 0x1
# RFC 9113 §8.2.2: fields that only mean something to one HTTP/1.1 connection.
CONNECTION_SPECIFIC: Final = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)
SCHEMES: Final = frozenset((b"https", b"http"))
_COLON: Final = 58
_UPPER_A: Final = 65
_UPPER_Z: Final = 90


class Origin:
    """What the connection knows of a viewer, the same for each of its requests."""

    __slots__ = ("client_ip", "client_port", "server_port", "tls_version")

    def __init__(self, client_ip: str, client_port: int, server_port: int, tls_version: str | None) -> None:
        self.client_ip = client_ip
        self.client_port = client_port
        self.server_port = server_port
        self.tls_version = tls_version


class HeadLimits:
    """The HTTP/1.1 limits, as they apply to one HTTP/2 request head."""

    __slots__ = ("max_body_bytes", "max_header_bytes", "max_header_count", "max_uri_bytes", "underscores")

    def __init__(
        self,
        max_header_bytes: int,
        max_header_count: int,
        max_uri_bytes: int,
        max_body_bytes: int,
        underscores: UnderscorePolicy | None = None,
    ) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count
        self.max_uri_bytes = max_uri_bytes
        self.max_body_bytes = max_body_bytes
        self.underscores = underscores


def build_request(
    stream_id: int, fields: list[Header], end_stream: bool, origin: Origin, limits: HeadLimits, now: float
) -> tuple[Request, int]:
    """(the request, its content-length or -1); H2Error (stream) or ProtocolError (4xx) if refused."""
    method = scheme = path = authority = b""
    headers: list[Header] = []
    cookies: list[bytes] = []
    size = 0
    regular = False
    for name, value in fields:
        size += len(name) + len(value) + 4  # as HTTP/1.1 counts a field line
        if not _valid_value(value):
            raise H2Error(
                "HTTP/2: a forbidden octet or edge whitespace in a value (RFC 9113 §8.2.1)", stream_id
            )
        if len(name) and name[0] == _COLON:
            if regular:
                raise H2Error("HTTP/2: a pseudo-header after a regular field (RFC 9113 §8.3)", stream_id)
            if name == b":method" and not method:
                method = value
            elif name == b":scheme" and not scheme:
                scheme = value
            elif name == b":path" and not path:
                path = value
            elif name == b":authority" and not authority:
                authority = value
            else:
                raise H2Error(
                    "HTTP/2: an unknown, repeated or empty pseudo-header (RFC 9113 §8.3.1)", stream_id
                )
            continue
        regular = True
        if not _valid_name(name):
            raise H2Error(
                "HTTP/2: a field name that is empty, upper-case or invalid (RFC 9113 §8.2.1)", stream_id
            )
        if name in CONNECTION_SPECIFIC:
            raise H2Error("HTTP/2: a connection-specific field (RFC 9113 §8.2.2)", stream_id)
        if name == b"te" and value != b"trailers":
            raise H2Error("HTTP/2: TE other than 'trailers' (RFC 9113 §8.2.2)", stream_id)
        if name == b"cookie":
            cookies.append(value)
            if len(cookies) > 1:
                continue
        headers.append((name, value))
    if method == b"CONNECT":
        raise BadRequest("CONNECT is not supported")
    if not method or not scheme or not path:
        raise H2Error("HTTP/2: :method, :scheme or :path missing (RFC 9113 §8.3.1)", stream_id)
    if size > limits.max_header_bytes:
        raise HeadersTooLarge(f"header section over {limits.max_header_bytes} bytes")
    if len(headers) > limits.max_header_count:
        raise HeadersTooLarge(f"more than {limits.max_header_count} header fields")
    if len(path) > limits.max_uri_bytes:
        raise UriTooLong(f"request target over {limits.max_uri_bytes} bytes")
    if scheme not in SCHEMES:
        raise BadRequest("HTTP/2 :scheme other than https or http")
    if len(cookies) > 1:  # §8.2.3: one field for an HTTP/1.1 hop
        at = next(position for position, field in enumerate(headers) if field[0] == b"cookie")
        headers[at] = (b"cookie", b"; ".join(cookies))
    if limits.underscores is not None:
        kept = kept_fields(headers, limits.underscores)
        if kept is not None:
            headers = kept
    index: HeaderIndex = index_headers(headers)
    hosts = index.get(b"host")
    if authority:
        if hosts is None:
            headers.insert(0, (b"host", authority))
            index[b"host"] = (authority,)
        elif len(hosts) == 1 and hosts[0] != authority:
            raise BadRequest(":authority and Host disagree")
    elif hosts is None:
        raise BadRequest("HTTP/2 request without :authority or Host")
    content_length = _content_length(stream_id, index)
    if not path.startswith(b"/") and path != b"*":
        raise BadRequest("HTTP/2 :path neither origin-form nor '*'")
    # The HTTP/1.1 rules, once: one Host, the target form, the body limit, Expect.
    path_part, query, _, host, _, _ = check_head(method, path, "1.1", index, limits.max_body_bytes)
    request = Request(
        method,
        path,
        path_part,
        query,
        VERSION,
        headers,
        host,
        True,
        origin.client_ip,
        origin.client_port,
        "https",
        origin.server_port,
        origin.tls_version,
        None,
        False,
        now,
        None,
        index,
        None,
    )
    if end_stream and content_length > 0:
        raise H2Error("HTTP/2: content-length with no DATA to follow (RFC 9113 §8.1.1)", stream_id)
    return request, content_length


def _content_length(stream_id: int, index: HeaderIndex) -> int:
    """The declared content length, -1 when none; a malformed one is a stream error (§8.1.1)."""
    values = index.get(b"content-length")
    if values is None:
        return -1
    first = values[0]
    for value in values:
        if value != first or not value.isdigit() or len(value) > 18:
            raise H2Error("HTTP/2: an invalid or repeated content-length (RFC 9113 §8.1.1)", stream_id)
    return int(first)


def _valid_name(name: bytes) -> bool:
    """A lower-case token (RFC 9113 §8.2.1, RFC 9110 §5.1)."""
    if not len(name):
        return False
    for octet in name:
        if octet <= 32 or octet >= 127 or (_UPPER_A <= octet <= _UPPER_Z) or octet in _NOT_TCHAR:
            return False
    return True


def _valid_value(value: bytes) -> bool:
    """No NUL, CR or LF, and no leading or trailing space or tab (RFC 9113 §8.2.1)."""
    if not len(value):
        return True
    if 0 in value or 10 in value or 13 in value:
        return False
    return value[0] not in _EDGE_WHITESPACE and value[-1] not in _EDGE_WHITESPACE


_NOT_TCHAR: Final = frozenset(b'"(),/:;<=>?@[\\]{}')
_EDGE_WHITESPACE: Final = frozenset((32, 9))
