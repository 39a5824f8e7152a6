# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Strict checks on a parsed request head (pure): what a careful load balancer refuses.

httptools (llhttp) already rejects, with its strict defaults: Content-Length together with
Transfer-Encoding, duplicate or non-numeric Content-Length, obs-fold, invalid tokens in names,
spaces before the colon, bare CR or LF and invalid method tokens (tests prove each). What it lets
through, and request smuggling needs, is checked here (RFC 9112 §6.1, §3.2, §3.3).

This runs on every request, so the common head (one Host, origin-form target, no body) takes a
few dict lookups; the framing rules run only when a framing field is present.
"""

from __future__ import annotations

from typing import Any, Final

import httptools

from originguard.errors import BadRequest, BodyTooLarge, ExpectationFailed, ProtocolError, VersionNotSupported

Header = tuple[bytes, bytes]
# Lower-cased name → every value in order; tuples, so a shared index can never be mutated.
HeaderIndex = dict[bytes, tuple[bytes, ...]]


_QUESTION_MARK: Final = 63  # b"?"[0]
_SPACE: Final = 32
_TAB: Final = 9

# What the checks found: (path, query, version, host, has_body, expect_continue). A plain tuple,
# which compiled code passes as a C struct with no allocation.
RequestHead = tuple[bytes, bytes, bytes, bytes, bool, bool]


def index_headers(headers: list[Header]) -> HeaderIndex:
    """Lower-cased name → every value in order (the connection builds it while parsing)."""
    return merge_duplicates([name.lower() for name, _ in headers], headers)


def merge_duplicates(lower_names: list[bytes], headers: list[Header]) -> HeaderIndex:
    """The index of fields whose names may repeat (`lower_names[i]` is `headers[i]`'s name)."""
    index: HeaderIndex = {}
    for lower, (_, value) in zip(lower_names, headers, strict=True):
        found = index.get(lower)
        index[lower] = (value,) if found is None else (*found, value)
    return index


def split_origin_form(target: bytes) -> tuple[bytes, bytes]:
    """Path and query of an origin-form target; a fragment is not part of the query."""
    # An int needle: `in` is then one memchr. A bytes needle makes bytes.__contains__ first try it
    # as an int, raising and clearing a TypeError inside CPython (about 2,000 instructions);
    # find() parses its arguments the old way (about 500). Most targets have no query.
    if _QUESTION_MARK not in target:
        return target, b""
    mark = target.find(b"?")
    query = target[mark + 1 :]
    fragment = query.find(b"#")
    if fragment >= 0:
        query = query[:fragment]
    return target[:mark], query


def check_head(method: bytes, target: bytes, version: str, index: HeaderIndex, max_body: int) -> RequestHead:
    """Validate framing, Host and target; raise a ProtocolError naming the rule broken."""
    if version == "1.1":
        version_bytes = b"1.1"
    elif version == "1.0":
        version_bytes = b"1.0"
    else:
        # llhttp hands on only the well-formed versions it knows (0.9, 2.0 besides ours): a
        # well-formed version we do not speak is 505 (RFC 9110 §15.6.6), as HTTP/0.9 is here.
        raise VersionNotSupported(f"HTTP/{version} is not supported")
    hosts = index.get(b"host")
    if hosts is None:
        if version_bytes == b"1.1":
            raise BadRequest("HTTP/1.1 request without Host")
        host = b""
    elif len(hosts) > 1:
        raise BadRequest("more than one Host header")
    else:
        host = hosts[0]
        # llhttp drops the OWS before a value; strip() (a method call) only for what is left.
        if host and (host[-1] == _SPACE or host[-1] == _TAB or host[0] == _SPACE or host[0] == _TAB):
            host = host.strip()
    has_body = expect_continue = False
    if b"transfer-encoding" in index or b"content-length" in index or b"expect" in index:
        has_body, expect_continue = _framing(index, version_bytes, max_body)
    if target.startswith(b"/") and not target.startswith(b"//"):
        path, query = split_origin_form(target)
    else:
        path, query, host = _other_target_forms(method, target, host)
    return path, query, version_bytes, host, has_body, expect_continue


def version_rejection(after_target: bytes | None) -> ProtocolError:
    """What a request line gets when llhttp refused its version digits ("Invalid HTTP version":
    `HTTP/` and one digit, a dot and one digit it does not know, such as 1.2 or 3.0).
    `after_target` is the read from the `HTTP/` after the target on (it may end early), None
    when the line began in an earlier read (llhttp's digits are then all there is to go by).

    RFC 9112 §2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT, then the line's CRLF. Well-formed but
    not 1.0/1.1 is 505; anything more (`HTTP/1.10`, `HTTP/1.2x`, a bare LF) is malformed: 400."""
    if after_target is None:
        return VersionNotSupported("HTTP version not supported")
    version = after_target[:8]
    ending = after_target[8:10]
    if len(version) == 8 and _is_version(version) and (ending == b"\r\n" or ending in (b"", b"\r")):
        return VersionNotSupported(f"{version.decode('ascii')} is not supported")
    return BadRequest("malformed HTTP version")


def _is_version(token: bytes) -> bool:
    return token.startswith(b"HTTP/") and token[5:6].isdigit() and token[6:7] == b"." and token[7:8].isdigit()


def _framing(index: HeaderIndex, version: bytes, max_body: int) -> tuple[bool, bool]:
    """Body framing and Expect (RFC 9112 §6.1-6.3, RFC 9110 §10.1.1): (has_body, expect_continue)."""
    transfer_encodings = index.get(b"transfer-encoding")
    lengths = index.get(b"content-length")
    content_length = lengths[-1] if lengths else None
    expects = index.get(b"expect")
    if transfer_encodings:
        # Only exactly `chunked`: any other coding list is a desync vector between hops (§6.1).
        if version == b"1.0":
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        if len(transfer_encodings) != 1 or transfer_encodings[0].strip(b" \t").lower() != b"chunked":
            raise BadRequest("Transfer-Encoding other than exactly 'chunked'")
    if content_length is not None and int(content_length) > max_body:
        raise BodyTooLarge(f"Content-Length {int(content_length)} over the limit of {max_body} bytes")
    expect = expects[0] if expects else None
    if expect is not None and expect.strip().lower() != b"100-continue":
        raise ExpectationFailed("only Expect: 100-continue is supported")
    has_body = bool(transfer_encodings) or (content_length is not None and int(content_length) > 0)
    return has_body, expect is not None and has_body and version == b"1.1"


def _other_target_forms(method: bytes, target: bytes, host: bytes) -> tuple[bytes, bytes, bytes]:
    """asterisk-form and absolute-form targets (RFC 9112 §3.2); `//` origin-forms are refused."""
    if target == b"*":
        if method != b"OPTIONS":
            raise BadRequest("asterisk-form target is only valid for OPTIONS")
        return b"*", b"", host
    if target.startswith(b"//"):
        # origin-form never starts with //; parsers disagree on it (authority or path?).
        raise BadRequest("request target starts with //")
    if method == b"CONNECT":
        raise BadRequest("CONNECT is not supported")
    if not target[:8].lower().startswith((b"http://", b"https://")):
        raise BadRequest("request target is neither origin-form nor absolute-form")
    try:
        # Any: httptools' stub types every part as present, but absent parts are None (and
        # compiled code trusts declared types).
        url: Any = httptools.parse_url(target)
    except httptools.HttpParserInvalidURLError:
        raise BadRequest("invalid absolute-form request target") from None
    authority: bytes = (url.host or b"") + (b":%d" % url.port if url.port else b"")
    if url.userinfo or (host and authority.lower() != host.lower()):
        # RFC 9112 §3.2.2 lets a server replace Host; we refuse the ambiguity instead of guessing.
        raise BadRequest("absolute-form target disagrees with Host")
    return url.path or b"/", url.query or b"", authority
