# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Origin signing and header hygiene between viewer, edge and origin (pure).

The custom origin headers (the secret) are added to every origin request and overwrite any copy a
viewer sent; a viewer's `Connection: X-Origin-Verify` cannot remove them (they are protected from
hop-by-hop stripping); an origin that echoes them back never gets them to the viewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from originguard.http.headers import HOP_BY_HOP, strip_hop_by_hop

Header = tuple[bytes, bytes]

# Fields the edge sets itself toward the origin; viewer copies are dropped (no spoofing).
EDGE_SET: Final = frozenset({b"x-forwarded-proto", b"x-forwarded-port", b"content-length", b"via"})


@dataclass(frozen=True, slots=True)
class OriginSigning:
    """The compiled custom headers of one origin: names (lower-case) and wire values."""

    headers: tuple[Header, ...]
    names: frozenset[bytes]
    lines: bytes  # the same headers as wire lines, for heads edited in place

    def __repr__(self) -> str:
        return f"OriginSigning(names={sorted(self.names)!r}, values=***)"


def origin_signing(headers: list[Header]) -> OriginSigning:
    """The compiled form of an origin's custom headers (name, value as sent)."""
    return OriginSigning(
        tuple(headers),
        frozenset(name.lower() for name, _ in headers),
        b"".join(b"%s: %s\r\n" % header for header in headers),
    )


def origin_request_headers(
    viewer_headers: list[Header],
    signing: OriginSigning,
    *,
    client_ip: str,
    scheme: str,
    edge_name: str,
    host: bytes | None,
    drop: frozenset[bytes] = frozenset(),
) -> list[Header]:
    """Headers for the origin: hop-by-hop gone, custom headers overwrite, X-Forwarded-For appended."""
    kept = strip_hop_by_hop(viewer_headers, protected=signing.names)
    remove = _removed(signing.names, drop, host is not None)
    forwarded_for: list[bytes] = []
    earlier_via: list[bytes] = []
    headers: list[Header] = []
    if host is not None:
        headers.append((b"Host", host))
    for name, value in kept:
        lower = name.lower()
        if lower in remove:
            if lower == b"x-forwarded-for":
                forwarded_for.append(value)
            elif lower == b"via":
                earlier_via.append(value)
            continue
        headers.append((name, value))
    chain, proto, via = _forwarded_values(forwarded_for, earlier_via, client_ip, scheme, edge_name)
    headers.append((b"X-Forwarded-For", chain))
    headers.append((b"X-Forwarded-Proto", proto))
    headers.append((b"Via", via))
    headers.extend(signing.headers)
    return headers


def forwarded_lines(
    chain: tuple[bytes, ...], earlier_via: tuple[bytes, ...], client_ip: str, scheme: str, edge_name: str
) -> bytes:
    """X-Forwarded-For (the viewer's `chain` plus the client), -Proto and Via (appended to) as
    lines: what `origin_request_headers` adds, for a viewer head edited in place."""
    forwarded_for, proto, via = _forwarded_values(chain, earlier_via, client_ip, scheme, edge_name)
    return b"".join(
        (b"X-Forwarded-For: ", forwarded_for, b"\r\nX-Forwarded-Proto: ", proto, b"\r\nVia: ", via, b"\r\n")
    )


def _forwarded_values(
    chain: Sequence[bytes], earlier_via: Sequence[bytes], client_ip: str, scheme: str, edge_name: str
) -> tuple[bytes, bytes, bytes]:
    """X-Forwarded-For, X-Forwarded-Proto and Via values for an origin request."""
    # RFC 9110 §7.6.3: append to Via, never replace it (it is also how loops are seen).
    return (
        b", ".join([*chain, client_ip.encode()]),
        scheme.encode(),
        b", ".join([*earlier_via, b"1.1 " + edge_name.encode() + b" (originguard)"]),
    )


def request_cuts(signing: OriginSigning) -> frozenset[bytes]:
    """Every viewer field an origin request edited in place leaves out (hop-by-hop aside): what
    `origin_request_headers` removes when it forwards the viewer's Host."""
    return _removed(signing.names, frozenset(), False)


# (secret names, extra drops, Host replaced) → every viewer field an origin request leaves out or
# rebuilds: a few origins per config, so it stays small, and unions are not made per request.
_REMOVED: dict[tuple[frozenset[bytes], frozenset[bytes], bool], frozenset[bytes]] = {}


def _removed(secret_names: frozenset[bytes], drop: frozenset[bytes], replace_host: bool) -> frozenset[bytes]:
    key = (secret_names, drop, replace_host)
    found = _REMOVED.get(key)
    if found is None:
        if len(_REMOVED) >= 256:
            _REMOVED.clear()  # only if configs keep changing names: never a leak
        names = secret_names | EDGE_SET | drop | {b"x-forwarded-for", b"via"}
        found = _REMOVED[key] = names | {b"host"} if replace_host else names
    return found


def viewer_cuts(signing: OriginSigning, targeted: Iterable[bytes]) -> frozenset[bytes]:
    """Lower-case names of an origin's response fields a viewer never gets, in a final or an
    interim head: hop-by-hop, the origin's Via (ours replaces it), echoed secret headers and the
    cache-control fields targeted at us (RFC 9213)."""
    return frozenset({*HOP_BY_HOP, b"via", *signing.names, *targeted})


def viewer_response_headers(origin_headers: list[Header], signing: OriginSigning) -> list[Header]:
    """Origin response headers fit for a viewer: hop-by-hop and any echoed secret header removed."""
    kept = strip_hop_by_hop(origin_headers)
    return [(n, v) for n, v in kept if n.lower() not in signing.names]
