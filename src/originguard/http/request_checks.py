"""Strict checks on a parsed request head (pure): what a careful load balancer refuses.

httptools (llhttp) already rejects, with its strict defaults: Content-Length together with
Transfer-Encoding, duplicate or non-numeric Content-Length, obs-fold, invalid tokens in names,
spaces before the colon, bare CR or LF and invalid method tokens (tests prove each). What it lets
through, and request smuggling needs, is checked here (RFC 9112 §6.1, §3.2, §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import httptools

from originguard.errors import BadRequest, BodyTooLarge, ExpectationFailed, VersionNotSupported

Header = tuple[bytes, bytes]
_NONE: list[bytes] = []  # shared empty list for absent fields; never mutated


@dataclass(frozen=True, slots=True)
class RequestHead:
    method: bytes
    path: bytes
    query: bytes
    version: bytes
    host: bytes
    has_body: bool
    expect_continue: bool
    index: dict[bytes, list[bytes]]


def check_head(
    *, method: bytes, target: bytes, version: str, headers: list[Header], max_body: int
) -> RequestHead:
    """Validate framing, Host and target; raise a ProtocolError naming the rule broken."""
    if version not in ("1.1", "1.0"):
        if version.startswith(("0.", "1.")):
            raise BadRequest(f"HTTP/{version} is not a valid version")
        raise VersionNotSupported(f"HTTP/{version} is not supported")
    # One pass builds the lower-cased index every later lookup (rules, cache, WAF) reuses.
    index: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        lower = name.lower()
        found = index.get(lower)
        if found is None:
            index[lower] = [value]
        else:
            found.append(value)
    hosts = index.get(b"host", _NONE)
    transfer_encodings = index.get(b"transfer-encoding", _NONE)
    content_length = index[b"content-length"][-1] if b"content-length" in index else None
    expect = index[b"expect"][0] if b"expect" in index else None
    if len(hosts) > 1:
        raise BadRequest("more than one Host header")
    if not hosts and version == "1.1":
        raise BadRequest("HTTP/1.1 request without Host")
    host = hosts[0].strip() if hosts else b""
    if transfer_encodings:
        # Only exactly `chunked`: any other coding list is a desync vector between hops (§6.1).
        if version == "1.0":
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        if len(transfer_encodings) != 1 or transfer_encodings[0].strip(b" \t").lower() != b"chunked":
            raise BadRequest("Transfer-Encoding other than exactly 'chunked'")
    if content_length is not None and int(content_length) > max_body:
        raise BodyTooLarge(f"Content-Length {int(content_length)} over the limit of {max_body} bytes")
    if expect is not None and expect.strip().lower() != b"100-continue":
        raise ExpectationFailed("only Expect: 100-continue is supported")
    path, query, host = _split_target(method, target, host)
    has_body = bool(transfer_encodings) or (content_length is not None and int(content_length) > 0)
    return RequestHead(
        method=method,
        path=path,
        query=query,
        version=version.encode(),
        host=host,
        has_body=has_body,
        expect_continue=expect is not None and has_body and version == "1.1",
        index=index,
    )


def _split_target(method: bytes, target: bytes, host: bytes) -> tuple[bytes, bytes, bytes]:
    if target == b"*":
        if method != b"OPTIONS":
            raise BadRequest("asterisk-form target is only valid for OPTIONS")
        return b"*", b"", host
    if target.startswith(b"/"):
        if target.startswith(b"//"):
            # origin-form never starts with //; parsers disagree on it (authority or path?).
            raise BadRequest("request target starts with //")
        path, _, query = target.partition(b"?")
        return path, query.partition(b"#")[0], host
    if method == b"CONNECT":
        raise BadRequest("CONNECT is not supported")
    if not target[:8].lower().startswith((b"http://", b"https://")):
        raise BadRequest("request target is neither origin-form nor absolute-form")
    try:
        url = httptools.parse_url(target)
    except httptools.HttpParserInvalidURLError:
        raise BadRequest("invalid absolute-form request target") from None
    authority = url.host + (b":%d" % url.port if url.port else b"")
    if url.userinfo or (host and authority.lower() != host.lower()):
        # RFC 9112 §3.2.2 lets a server replace Host; we refuse the ambiguity instead of guessing.
        raise BadRequest("absolute-form target disagrees with Host")
    return url.path or b"/", url.query or b"", authority
