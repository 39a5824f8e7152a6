"""Compression at fill: what is compressed, with what headers, and that the bytes decode back."""

from __future__ import annotations

import gzip
import random

import brotli
import pytest
import zstandard

from originguard.edge.compression import (
    CompressionPolicy,
    coding_key,
    compress_response,
    compressible_type,
    may_compress,
    request_coding,
    weak_etag,
)

POLICY = CompressionPolicy()
JS = b"function add(a, b) { return a + b; }\n" * 400
HEAD = [(b"Content-Type", b"application/javascript"), (b"ETag", b'"v1"'), (b"Content-Length", b"14800")]
DECODE = {
    b"gzip": gzip.decompress,
    b"br": brotli.decompress,
    b"zstd": lambda data: zstandard.ZstdDecompressor().decompress(data),
}


def field(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [v for n, v in headers if n.lower() == name]


@pytest.mark.parametrize("coding", [b"gzip", b"br", b"zstd"])
def test_each_coding_decodes_to_the_origin_body_with_weak_etag_and_vary(coding: bytes) -> None:
    headers, body = compress_response(200, HEAD, JS, coding, POLICY)
    assert DECODE[coding](body) == JS and len(body) < len(JS) // 10
    assert field(headers, b"content-encoding") == [coding]
    assert field(headers, b"etag") == [b'W/"v1"']
    assert field(headers, b"vary") == [b"Accept-Encoding"]
    assert field(headers, b"content-length") == []  # the store writes the new length


def test_gzip_output_is_reproducible() -> None:
    assert compress_response(200, HEAD, JS, b"gzip", POLICY) == compress_response(
        200, HEAD, JS, b"gzip", POLICY
    )


def test_identity_copy_of_a_compressible_response_still_says_vary() -> None:
    headers, body = compress_response(200, HEAD, JS, b"", POLICY)
    assert body == JS and field(headers, b"vary") == [b"Accept-Encoding"]
    assert field(headers, b"etag") == [b'"v1"']


def test_vary_is_merged_once() -> None:
    head = [*HEAD, (b"Vary", b"Origin")]
    headers, _ = compress_response(200, head, JS, b"br", POLICY)
    assert field(headers, b"vary") == [b"Origin, Accept-Encoding"]
    head = [*HEAD, (b"Vary", b"accept-encoding")]
    assert field(compress_response(200, head, JS, b"br", POLICY)[0], b"vary") == [b"accept-encoding"]


@pytest.mark.parametrize(
    ("status", "extra", "body"),
    [
        (206, [], JS),
        (404, [], JS),
        (200, [(b"Content-Encoding", b"gzip")], JS),
        (200, [(b"Cache-Control", b"public, no-transform")], JS),
        (200, [(b"Content-Range", b"bytes 0-9/100")], JS),
        (200, [], b"tiny"),
    ],
)
def test_what_is_never_compressed_passes_unchanged(
    status: int, extra: list[tuple[bytes, bytes]], body: bytes
) -> None:
    head = [*HEAD, *extra]
    assert compress_response(status, head, body, b"br", POLICY) == (head, body)


def test_images_and_unknown_types_are_left_alone() -> None:
    for content_type in (b"image/png", b"video/mp4", b"application/zip", b"application/octet-stream"):
        head = [(b"Content-Type", content_type)]
        assert not may_compress(200, head, len(JS), POLICY)
    assert not may_compress(200, [], len(JS), POLICY)


def test_text_like_types() -> None:
    for content_type in (
        b"text/html; charset=utf-8",
        b"TEXT/CSS",
        b"application/json",
        b"application/problem+json",
        b"application/vnd.api+json",
        b"image/svg+xml",
    ):
        assert compressible_type(content_type), content_type


def test_an_incompressible_body_keeps_the_origin_bytes() -> None:
    noise = random.Random(7).randbytes(4096)  # random bytes do not shrink
    head = [(b"Content-Type", b"text/plain")]
    headers, body = compress_response(200, head, noise, b"gzip", POLICY)
    assert body == noise and field(headers, b"content-encoding") == []


def test_size_bounds() -> None:
    small = CompressionPolicy(min_bytes=10, max_bytes=100)
    assert not may_compress(200, HEAD, 9, small) and may_compress(200, HEAD, 10, small)
    assert may_compress(200, HEAD, 100, small) and not may_compress(200, HEAD, 101, small)


def test_request_coding_and_the_key_it_makes() -> None:
    assert request_coding(b"gzip, br", False, POLICY) == b"br"
    assert request_coding(b"gzip, br", True, POLICY) == b""  # ranges address the origin's bytes
    assert request_coding(b"identity;q=0", False, CompressionPolicy(codings=(b"gzip",))) == b""
    assert request_coding(b"gzip, br", False, CompressionPolicy(codings=(b"gzip",))) == b"gzip"
    assert coding_key(b"h/p", b"br") == b"h/p\x00e:br" and coding_key(b"h/p", b"") == b"h/p"


def test_weak_etag() -> None:
    assert weak_etag(b'"x"') == b'W/"x"' and weak_etag(b'W/"x"') == b'W/"x"'
