# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The variables of one transaction, filled from the request, its body and the response.

Collections hold entries `(key, key lower-cased, value)`; scalars are bytes. The URI is split and
decoded as ModSecurity v3's Transaction::processURI does (REQUEST_URI and REQUEST_FILENAME are
%-decoded, `+` kept; the fragment is dropped from them and from QUERY_STRING).
"""

from __future__ import annotations

from typing import Final

from originguard.waf.seclang.bodies import BodyLimits, BodyResult
from originguard.waf.seclang.bodies.urlencoded import parse_urlencoded
from originguard.waf.seclang.transaction import HttpRequest, HttpResponse

Entry = tuple[bytes, bytes, bytes]
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_NO_LIMITS: Final = BodyLimits()


class VarStore:
    """Collections and scalars of a transaction; TX and the like live in `persistent`."""

    __slots__ = ("collections", "scalars")

    def __init__(self) -> None:
        self.collections: dict[str, list[Entry]] = {}
        self.scalars: dict[str, bytes] = {}


def request_vars(request: HttpRequest, separator: bytes) -> VarStore:
    """The variables known after the request line and headers (phase 1)."""
    store = VarStore()
    s, c = store.scalars, store.collections
    target = request.target
    s["REQUEST_METHOD"] = request.method
    s["REQUEST_PROTOCOL"] = request.protocol
    s["REQUEST_LINE"] = request.method + b" " + target + b" " + request.protocol
    s["REQUEST_URI_RAW"] = target
    without_fragment = target.split(b"#", 1)[0]
    path_raw, q, query = without_fragment.partition(b"?")
    decoded = uri_decode(without_fragment)
    if decoded[:1] != b"/":
        scheme = decoded.find(b"://")
        if scheme >= 0:
            slash = decoded.find(b"/", scheme + 3)
            decoded = decoded[slash:] if slash >= 0 else b"/"
    s["REQUEST_URI"] = decoded
    filename = uri_decode(path_raw)
    if filename[:1] != b"/" and b"://" in filename:
        slash = filename.find(b"/", filename.find(b"://") + 3)
        filename = filename[slash:] if slash >= 0 else b"/"
    s["REQUEST_FILENAME"] = filename
    s["PATH_INFO"] = filename
    cut = max(filename.rfind(b"/"), filename.rfind(b"\\"))
    if 0 <= cut < len(filename) - 1:
        s["REQUEST_BASENAME"] = filename[cut + 1 :]
    elif cut < 0 and filename:
        s["REQUEST_BASENAME"] = filename
    if q:
        s["QUERY_STRING"] = query
    args = _args(query, separator) if query else []
    c["ARGS_GET"] = args
    c["ARGS_GET_NAMES"] = [(k, lk, k) for k, lk, _ in args]
    c["ARGS"] = list(args)
    c["ARGS_NAMES"] = [(k, lk, k) for k, lk, _ in args]
    headers = [(k, k.lower(), v) for k, v in request.headers]
    c["REQUEST_HEADERS"] = headers
    c["REQUEST_HEADERS_NAMES"] = [(k, lk, k) for k, lk, _ in headers]
    cookies = [entry for _, lk, v in headers if lk == b"cookie" for entry in _cookies(v)]
    c["REQUEST_COOKIES"] = cookies
    c["REQUEST_COOKIES_NAMES"] = [(k, lk, k) for k, lk, _ in cookies]
    if args:
        s["ARGS_COMBINED_SIZE"] = str(sum(len(k) + len(v) for k, _, v in args)).encode()
    s["REMOTE_ADDR"] = request.client_ip.encode()
    s["REMOTE_HOST"] = request.client_ip.encode()
    s["REMOTE_PORT"] = str(request.client_port).encode()
    s["SERVER_ADDR"] = request.server_ip.encode()
    s["SERVER_PORT"] = str(request.server_port).encode()
    host = next((v for _, lk, v in headers if lk == b"host"), b"")
    s["SERVER_NAME"] = host.split(b":", 1)[0]
    s["UNIQUE_ID"] = b"0"  # sans-IO: no clock or counter; CRS only reads it for sampling
    s["DURATION"] = b"0"
    s["FULL_REQUEST_LENGTH"] = str(
        len(s["REQUEST_LINE"]) + sum(len(k) + len(v) + 4 for k, v in request.headers) + len(request.body)
    ).encode()
    s["REQBODY_ERROR"] = b"0"
    s["REQBODY_PROCESSOR_ERROR"] = b"0"
    s["URLENCODED_ERROR"] = b"0"
    s["INBOUND_DATA_ERROR"] = b"0"
    s["OUTBOUND_DATA_ERROR"] = b"0"
    s["HIGHEST_SEVERITY"] = b"255"
    return store


def add_body(store: VarStore, body: bytes, result: BodyResult | None) -> None:
    """The variables of phase 2: REQUEST_BODY and what the body processor found."""
    s, c = store.scalars, store.collections
    # As ModSecurity 2 and CRS's suite expect: a body the XML processor parsed is seen through
    # XML:/* only, not as raw REQUEST_BODY (libmodsecurity 3 fills both, a bug CRS lists).
    if body and (result is None or result.processor != "XML"):
        s["REQUEST_BODY"] = body
    if body:
        s["REQUEST_BODY_LENGTH"] = str(len(body)).encode()
    if result is None:
        return
    s["REQBODY_PROCESSOR"] = result.processor.encode()
    if result.error is not None:
        message = result.error.encode("latin-1", "replace")
        s["REQBODY_ERROR"] = s["REQBODY_PROCESSOR_ERROR"] = b"1"
        s["REQBODY_ERROR_MSG"] = s["REQBODY_PROCESSOR_ERROR_MSG"] = message
    if result.urlencoded_error:
        s["URLENCODED_ERROR"] = b"1"
    posted = [(k, k.lower(), v) for k, v in result.args]
    if result.in_args_post:
        c["ARGS_POST"] = posted
        c["ARGS_POST_NAMES"] = [(k, lk, k) for k, lk, _ in posted]
    c["ARGS"] = c.get("ARGS", []) + posted
    c["ARGS_NAMES"] = c.get("ARGS_NAMES", []) + [(k, lk, k) for k, lk, _ in posted]
    total = sum(len(k) + len(v) for k, _, v in c["ARGS"])
    s["ARGS_COMBINED_SIZE"] = str(total).encode()
    if result.files:
        c["FILES"] = [(f.name, f.name.lower(), f.filename) for f in result.files]
        c["FILES_NAMES"] = [(f.name, f.name.lower(), f.name) for f in result.files]
        c["FILES_SIZES"] = [(f.name, f.name.lower(), str(f.size).encode()) for f in result.files]
        c["FILES_TMP_CONTENT"] = [(f.name, f.name.lower(), f.content) for f in result.files]
    if result.files_combined_size is not None:
        s["FILES_COMBINED_SIZE"] = str(result.files_combined_size).encode()
    for flag, value in result.multipart_flags.items():
        s[flag] = str(value).encode()
    if result.part_headers:
        c["MULTIPART_PART_HEADERS"] = [(k, k.lower(), v) for k, v in result.part_headers]
    if result.multipart_names:
        c["MULTIPART_NAME"] = [(n, n.lower(), n) for n in result.multipart_names]
    if result.multipart_filenames:
        c["MULTIPART_FILENAME"] = [(n, n.lower(), n) for n in result.multipart_filenames]
    xml: list[Entry] = []
    if result.xml_text is not None:
        xml.append((b"/*", b"/*", result.xml_text))
    xml.extend((b"//@*", b"//@*", v) for v in result.xml_attributes)
    if xml:
        c["XML"] = xml


def add_response(store: VarStore, response: HttpResponse) -> None:
    """The variables of phase 3."""
    s, c = store.scalars, store.collections
    headers = [(k, k.lower(), v) for k, v in response.headers]
    c["RESPONSE_HEADERS"] = headers
    c["RESPONSE_HEADERS_NAMES"] = [(k, lk, k) for k, lk, _ in headers]
    s["RESPONSE_STATUS"] = str(response.status).encode()
    s["RESPONSE_PROTOCOL"] = response.protocol
    s["STATUS_LINE"] = response.protocol + b" " + str(response.status).encode()
    for _, lk, v in headers:
        if lk == b"content-type":
            s["RESPONSE_CONTENT_TYPE"] = v
        elif lk == b"content-length":
            s["RESPONSE_CONTENT_LENGTH"] = v


def uri_decode(raw: bytes) -> bytes:
    """%XX decoding only (ModSecurity's utils::uri_decode): `+` stays, a bad escape stays."""
    if b"%" not in raw:
        return raw
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(ch)
            i += 1
    return bytes(out)


def _args(query: bytes, separator: bytes) -> list[Entry]:
    if separator != b"&":
        query = query.replace(separator, b"&")
    result = parse_urlencoded(query, _NO_LIMITS)
    return [(k, k.lower(), v) for k, v in result.args]


def _cookies(header: bytes) -> list[Entry]:
    # v3 extractCookies: split on ';', then on the first '='; the name is left-trimmed.
    entries = []
    for piece in header.split(b";"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        name = name.lstrip()
        entries.append((name, name.lower(), value))
    return entries
