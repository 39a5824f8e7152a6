"""Origin signing and header hygiene between viewer, edge and origin (pure).

The custom origin headers (the secret) are added to every origin request and overwrite any copy a
viewer sent; a viewer's `Connection: X-Origin-Verify` cannot remove them (they are protected from
hop-by-hop stripping); an origin that echoes them back never gets them to the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from originguard.http.headers import strip_hop_by_hop

Header = tuple[bytes, bytes]

# Fields the edge sets itself toward the origin; viewer copies are dropped (no spoofing).
EDGE_SET = frozenset({b"x-forwarded-proto", b"x-forwarded-port", b"content-length", b"via"})


@dataclass(frozen=True, slots=True)
class OriginSigning:
    """The compiled custom headers of one origin: names (lower-case) and wire values."""

    headers: tuple[Header, ...]
    names: frozenset[bytes]

    def __repr__(self) -> str:
        return f"OriginSigning(names={sorted(self.names)!r}, values=***)"


def origin_request_headers(
    viewer_headers: Sequence[Header],
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
    remove = signing.names | EDGE_SET | drop | ({b"host"} if host is not None else frozenset())
    forwarded_for = b", ".join(v for n, v in kept if n.lower() == b"x-forwarded-for")
    earlier_via = [v for n, v in kept if n.lower() == b"via"]
    headers = [(n, v) for n, v in kept if n.lower() not in remove and n.lower() != b"x-forwarded-for"]
    if host is not None:
        headers.insert(0, (b"Host", host))
    client = client_ip.encode()
    headers.append((b"X-Forwarded-For", forwarded_for + b", " + client if forwarded_for else client))
    headers.append((b"X-Forwarded-Proto", scheme.encode()))
    # RFC 9110 §7.6.3: append to Via, never replace it (it is also how loops are seen).
    headers.append((b"Via", b", ".join([*earlier_via, b"1.1 " + edge_name.encode() + b" (originguard)"])))
    headers.extend(signing.headers)
    return headers


def viewer_response_headers(origin_headers: Sequence[Header], signing: OriginSigning) -> list[Header]:
    """Origin response headers fit for a viewer: hop-by-hop and any echoed secret header removed."""
    kept = strip_hop_by_hop(origin_headers)
    return [(n, v) for n, v in kept if n.lower() not in signing.names]
