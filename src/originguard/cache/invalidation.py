"""Which stored URIs an unsafe request invalidates (RFC 9111 §4.4), and admin invalidation paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from originguard.cache.facts import Headers
from originguard.cache.key import KeyPolicy, cache_key, normalize_host

SAFE_METHODS: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE"})
"""RFC 9110 §9.2.1; every other method, known or not, counts as unsafe."""


@dataclass(frozen=True, slots=True)
class InvalidationPath:
    """An admin invalidation path: exact ("/a/b.png") or prefix ("/a/*", "/*")."""

    path: bytes
    prefix: bool

    @classmethod
    def parse(cls, text: str) -> InvalidationPath:
        """Read a CloudFront-style path; "*" is only meaningful at the end."""
        raw = text.encode()
        if not raw.startswith(b"/"):
            raw = b"/" + raw
        if raw.endswith(b"*"):
            return cls(raw[:-1], True)
        return cls(raw, False)


def invalidations_for(
    method: bytes, status: int, host: bytes, target: bytes, headers: Headers
) -> list[tuple[bytes, bytes]]:
    """(host, path-with-query) pairs to invalidate after `method` on `target` got `status`."""
    if method in SAFE_METHODS or not 200 <= status < 400:
        return []  # only a non-error answer to an unsafe method invalidates (RFC 9111 §4.4)
    origin = normalize_host(host)
    target = target.partition(b"#")[0]
    out = [(origin, target)]
    for name, value in headers:
        if name.lower() in (b"location", b"content-location"):
            found = _same_origin_path(value.strip(), origin, target)
            # RFC 9111 §4.4: never invalidate another origin's URIs (a denial-of-service lever).
            if found is not None and (origin, found) not in out:
                out.append((origin, found))
    return out


def invalidation_keys(
    method: bytes,
    status: int,
    host: bytes,
    target: bytes,
    request_headers: Headers,
    response_headers: Headers,
    policy: KeyPolicy,
) -> list[bytes]:
    """Exact cache keys to `MemoryStore.delete` after an unsafe request: O(1) each, no store scan."""
    keys = []
    for origin, uri in invalidations_for(method, status, host, target, response_headers):
        path, _, query = uri.partition(b"?")
        keys.append(cache_key(origin, path, query or None, request_headers, policy))
    return keys


def _same_origin_path(reference: bytes, origin: bytes, target: bytes) -> bytes | None:
    """The path of a Location / Content-Location on `origin`, or None if it names another host."""
    reference = reference.partition(b"#")[0]
    if not reference:
        return None
    scheme, sep, rest = reference.partition(b"://")
    if sep and scheme.isalpha():
        authority, slash, path = rest.partition(b"/")
        if normalize_host(authority.rpartition(b"@")[2]) != origin:
            return None
        return slash + path if slash else b"/"
    if reference.startswith(b"//"):
        authority, slash, path = reference[2:].partition(b"/")
        return (slash + path if slash else b"/") if normalize_host(authority) == origin else None
    if reference.startswith(b"/"):
        return reference
    # A relative reference resolves against the target's directory (RFC 3986 §5.2.3).
    base = target.partition(b"?")[0]
    return base[: base.rfind(b"/") + 1] + reference
