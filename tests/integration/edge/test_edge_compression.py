"""Edge compression on the wire (edge → HTTPS → gate → origin): one copy per coding, compressed at fill."""

from __future__ import annotations

import gzip

import brotli
import zstandard

from tests.integration.edge.conftest import Chain
from tests.origin_app import Script
from tests.support import Response, request

EDGE = "www.cdn.example.test"
JS = b"export function add(a, b) {\n  return a + b; // sums two numbers\n}\n" * 300
BROWSER = "gzip, deflate, br, zstd"
DECODE = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompress(data),
}


def get(chain: Chain, path: str, extra: str = "", method: str = "GET") -> Response:
    raw = f"{method} {path} HTTP/1.1\r\nHost: {EDGE}\r\n{extra}\r\n".encode()
    return request(chain.https, raw, tls=chain.viewer_tls, server_name=EDGE)


def asset(
    chain: Chain, path: bytes, content_type: bytes = b"application/javascript", **extra: object
) -> None:
    headers = [(b"Cache-Control", b"public, max-age=3600"), (b"Content-Type", content_type)]
    headers += extra.pop("headers", [])  # type: ignore[arg-type]
    chain.origin.scripts[path] = Script(headers=headers, body=JS, etag=b'"v1"')


def origin_codings(chain: Chain, path: bytes) -> list[bytes | None]:
    """The Accept-Encoding of each request the origin got for `path`."""
    return [
        next((v for n, v in headers if n.lower() == b"accept-encoding"), None)
        for seen, headers in chain.origin.seen
        if seen == path
    ]


def test_each_coding_is_filled_once_and_hits_serve_the_same_compressed_bytes(chain: Chain) -> None:
    asset(chain, b"/static/app.js")
    first = get(chain, "/static/app.js", f"Accept-Encoding: {BROWSER}\r\n")
    assert first.status == 200 and first.header("x-cache") == "Miss from originguard"
    assert first.header("content-encoding") == "br" and first.header("vary") == "Accept-Encoding"
    assert first.header("etag") == 'W/"v1"'  # our bytes, not the origin's: a weak validator
    assert int(first.header("content-length") or 0) == len(first.body) < len(JS) // 10
    assert DECODE["br"](first.body) == JS
    hit = get(chain, "/static/app.js", f"Accept-Encoding: {BROWSER}\r\n")
    assert hit.header("x-cache") == "Hit from originguard" and hit.body == first.body
    for coding in ("gzip", "zstd"):
        copy = get(chain, "/static/app.js", f"Accept-Encoding: {coding}\r\n")
        assert copy.header("content-encoding") == coding and DECODE[coding](copy.body) == JS
    plain = get(chain, "/static/app.js")
    assert plain.header("content-encoding") is None and plain.body == JS
    assert plain.header("vary") == "Accept-Encoding" and plain.header("etag") == '"v1"'
    # Accept-Encoding is normalised into the key: another browser's spelling of "br" hits.
    again = get(chain, "/static/app.js", "Accept-Encoding: br;q=1.0, gzip;q=0.8\r\n")
    assert again.header("x-cache") == "Hit from originguard" and again.header("content-encoding") == "br"
    # The origin was asked once per coding, each time for that coding alone.
    assert origin_codings(chain, b"/static/app.js") == [b"br", b"gzip", b"zstd", b"identity"]


def test_what_must_not_be_compressed_goes_out_as_the_origin_sent_it(chain: Chain) -> None:
    asset(chain, b"/static/logo.png", b"image/png")
    asset(chain, b"/static/raw.js", headers=[(b"Cache-Control", b"no-transform")])
    for path in ("/static/logo.png", "/static/raw.js"):
        answer = get(chain, path, f"Accept-Encoding: {BROWSER}\r\n")
        assert answer.status == 200 and answer.header("content-encoding") is None and answer.body == JS, path
    small = Script(headers=[(b"Content-Type", b"text/plain")], body=b"tiny body\n")
    chain.origin.scripts[b"/static/small.txt"] = small
    assert get(chain, "/static/small.txt", "Accept-Encoding: br\r\n").header("content-encoding") is None


def test_an_origin_encoded_body_is_kept_not_encoded_twice(chain: Chain) -> None:
    packed = gzip.compress(JS, mtime=0)
    headers = [(b"Content-Type", b"text/javascript"), (b"Content-Encoding", b"gzip")]
    chain.origin.scripts[b"/static/packed.js"] = Script(headers=headers, body=packed)
    answer = get(chain, "/static/packed.js", "Accept-Encoding: gzip\r\n")
    assert answer.header("content-encoding") == "gzip" and answer.body == packed


def test_a_range_request_gets_the_origin_bytes(chain: Chain) -> None:
    asset(chain, b"/static/range.js")
    part = get(chain, "/static/range.js", f"Accept-Encoding: {BROWSER}\r\nRange: bytes=0-9\r\n")
    assert part.status == 206 and part.body == JS[:10] and part.header("content-encoding") is None


def test_a_conditional_request_with_the_weak_etag_is_answered_304(chain: Chain) -> None:
    asset(chain, b"/static/cond.js")
    get(chain, "/static/cond.js", "Accept-Encoding: br\r\n")
    answer = get(chain, "/static/cond.js", 'Accept-Encoding: br\r\nIf-None-Match: W/"v1"\r\n')
    assert answer.status == 304 and answer.body == b""
    assert chain.origin.hits[b"/static/cond.js"] == 1


def test_an_unsafe_request_invalidates_every_coding(chain: Chain) -> None:
    asset(chain, b"/static/doc.js")
    for coding in ("br", "gzip", "identity"):
        get(chain, "/static/doc.js", f"Accept-Encoding: {coding}\r\n")
    assert (
        get(chain, "/static/doc.js", "Accept-Encoding: gzip\r\n").header("x-cache") == "Hit from originguard"
    )
    posted = get(chain, "/static/doc.js", "Content-Length: 0\r\n", method="POST")
    assert posted.status == 200
    for coding in ("br", "gzip", "identity"):
        again = get(chain, "/static/doc.js", f"Accept-Encoding: {coding}\r\n")
        assert again.header("x-cache") == "Miss from originguard", coding


def test_revalidating_a_compressed_copy_keeps_its_etag_weak(chain: Chain) -> None:
    headers = [(b"Cache-Control", b"public, max-age=60"), (b"Content-Type", b"application/javascript")]
    chain.origin.scripts[b"/static/stale.js"] = Script(headers=headers, body=JS, etag=b'"v2"')
    first = get(chain, "/static/stale.js", "Accept-Encoding: gzip\r\n")
    assert first.header("etag") == 'W/"v2"' and first.header("content-encoding") == "gzip"
    chain.clock.advance(120)  # the copy is now stale: the next request revalidates it
    refreshed = get(chain, "/static/stale.js", "Accept-Encoding: gzip\r\n")
    assert refreshed.header("x-cache") == "RefreshHit from originguard"
    # The origin's 304 says ETag "v2" (its bytes); the refreshed copy still holds ours.
    assert refreshed.header("etag") == 'W/"v2"' and refreshed.header("content-encoding") == "gzip"
    assert refreshed.body == first.body and gzip.decompress(refreshed.body) == JS
    conditional = [h for path, h in chain.origin.seen if path == b"/static/stale.js"][-1]
    assert (b"If-None-Match", b'W/"v2"') in conditional and (b"Accept-Encoding", b"gzip") in conditional
