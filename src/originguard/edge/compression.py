"""Compressing origin responses at fill, as the cloud edge's "compress objects automatically".

Pure: given the origin's status, headers and whole body and the coding chosen for the request
(`http.codings.choose_coding` over the request's Accept-Encoding), `compress_response` returns the
headers and body to store. The cache keys each coding apart (`coding_key`), so a copy is
compressed once, when it is filled, and every hit serves ready bytes.

What is never compressed (RFC 9110 §8.4, RFC 9111 §5.2.2.6, and what CDNs do): anything but a
200, a body already encoded (Content-Encoding other than identity), a `no-transform` response,
a partial one (Content-Range), types that do not shrink (images, video, archives: only the
text-like types of `COMPRESSIBLE` are tried), bodies under the minimum (the framing would cost
more than it saves) or over the maximum (the CPU of one fill is bounded). A transformed
response's ETag is made weak (W/"..."): its bytes differ from the origin's, so a strong
validator would lie (RFC 9110 §8.8.1). Every response that could have been compressed says
`Vary: Accept-Encoding`, so caches after us keep the codings apart too.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import brotli
import zstandard

from originguard.http.codings import choose_coding

Header = tuple[bytes, bytes]

OFFERED: Final = (b"br", b"zstd", b"gzip")
"""Our codings in order of preference: brotli and zstd compress text ~15-25% smaller than gzip."""

COMPRESSIBLE: Final = frozenset(
    {
        b"application/javascript",
        b"application/json",
        b"application/ld+json",
        b"application/manifest+json",
        b"application/rss+xml",
        b"application/atom+xml",
        b"application/xhtml+xml",
        b"application/xml",
        b"application/wasm",
        b"application/x-javascript",
        b"application/vnd.ms-fontobject",
        b"font/otf",
        b"font/ttf",
        b"image/svg+xml",
        b"image/x-icon",
        b"image/vnd.microsoft.icon",
    }
)
"""Media types (besides text/* and +json/+xml suffixes) worth compressing, after CloudFront's list."""

_ZSTD: Final = zstandard.ZstdCompressor(level=6)


@dataclass(frozen=True, slots=True)
class CompressionPolicy:
    """A behaviour's compression settings, compiled at load."""

    codings: tuple[bytes, ...] = OFFERED
    min_bytes: int = 1024
    max_bytes: int = 10 * 1024 * 1024


def coding_key(key: bytes, coding: bytes) -> bytes:
    """The cache key of one coding's copy: an extra key part (`cache.key`'s `\\x00` layout)."""
    return key + b"\x00e:" + coding if coding else key


def compressible_type(content_type: bytes | None) -> bool:
    """Is this a text-like media type that compression shrinks."""
    if not content_type:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    if media.startswith(b"text/"):
        return True
    return media in COMPRESSIBLE or media.endswith((b"+json", b"+xml"))


def may_compress(status: int, headers: Sequence[Header], length: int, policy: CompressionPolicy) -> bool:
    """Could this response be compressed at all (whatever the request accepts)."""
    if status != 200 or not policy.min_bytes <= length <= policy.max_bytes:
        return False
    content_type: bytes | None = None
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
            return False
        if lower == b"content-range":
            return False
        if lower == b"cache-control" and b"no-transform" in value.lower():
            return False
        if lower == b"content-type":
            content_type = value
    return compressible_type(content_type)


def _gzip(body: bytes) -> bytes:
    # zlib's gzip container (wbits 31) writes mtime 0: the same body always gives the same bytes,
    # and no clock is read (the `gzip` module would import `time`).
    return zlib.compress(body, 6, wbits=31)


def _brotli(body: bytes) -> bytes:
    # Quality 5: ~4x faster than the default 11 for 2-3% larger output; a fill must stay cheap.
    return bytes(brotli.compress(body, quality=5))


ENCODERS: Final[dict[bytes, Callable[[bytes], bytes]]] = {
    b"gzip": _gzip,
    b"br": _brotli,
    b"zstd": _ZSTD.compress,
}


def weak_etag(value: bytes) -> bytes:
    """The weak form of an entity tag (already weak ones stay as they are)."""
    value = value.strip()
    return value if value.startswith(b"W/") else b"W/" + value


def _with_vary(headers: list[Header]) -> list[Header]:
    """`Vary: Accept-Encoding` added to what the origin varies on (once; `*` already covers it)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = [f.strip().lower() for f in value.split(b",")]
            if b"accept-encoding" in fields or b"*" in fields:
                return headers
            headers[index] = (name, value + b", Accept-Encoding")
            return headers
    headers.append((b"Vary", b"Accept-Encoding"))
    return headers


def compress_response(
    status: int, headers: Sequence[Header], body: bytes, coding: bytes, policy: CompressionPolicy
) -> tuple[list[Header], bytes]:
    """The headers and body to store for a request that chose `coding` (b"" for identity)."""
    if not may_compress(status, headers, len(body), policy):
        return list(headers), body
    if not coding:
        return _with_vary(list(headers)), body
    encoded = ENCODERS[coding](body)
    if len(encoded) >= len(body):
        return _with_vary(list(headers)), body  # incompressible after all: keep the origin's bytes
    out: list[Header] = []
    for name, value in headers:
        lower = name.lower()
        if lower in (b"content-length", b"content-encoding", b"content-md5"):
            continue
        if lower == b"etag":
            value = weak_etag(value)
        out.append((name, value))
    out.append((b"Content-Encoding", coding))
    return _with_vary(out), encoded


def request_coding(accept_encoding: bytes | None, has_range: bool, policy: CompressionPolicy) -> bytes:
    """The coding a request's copy is filled and served in: b"" (identity) for a range request."""
    if has_range:
        return b""  # a byte range addresses the origin's bytes, not ones we made up
    chosen = choose_coding(accept_encoding, policy.codings)
    return chosen if chosen is not None else b""


def vary_for_store(vary: tuple[bytes, ...], compressing: bool) -> tuple[bytes, ...]:
    """Vary as the store applies it: under compression the key already holds the coding, so the
    Vary: Accept-Encoding we add (for caches after us) must not split one coding's copy by spelling."""
    if not compressing or b"accept-encoding" not in vary:
        return vary
    return tuple(name for name in vary if name != b"accept-encoding")


def every_coding(keys: list[bytes]) -> list[bytes]:
    """Each key with the keys of its compressed copies (an unsafe request invalidates them all)."""
    return keys + [coding_key(key, coding) for key in keys for coding in OFFERED]
