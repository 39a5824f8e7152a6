# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""A stored response kept as ready-to-send bytes, with the Age value spliced per hit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

from originguard.cache.facts import DEFAULT_TARGETED, ResponseFacts, connection_fields
from originguard.cache.freshness import corrected_initial_age
from originguard.cache.httpdate import format_http_date

_OWN_FIELDS: Final = frozenset({b"age", b"content-length"})
"""Fields the cache writes itself: Age per hit (RFC 9111 §5.1), Content-Length from the stored body."""


@dataclass(frozen=True, slots=True)
class StaleRules:
    """The rarely present parts of an entry, kept apart so plain entries stay small."""

    swr_until: float | None = None
    sie_until: float | None = None
    no_stale: bool = False
    edge_directives: tuple[bytes, bytes] | None = None


_NO_RULES: Final = StaleRules()


@dataclass(slots=True, eq=False)
class CacheEntry:
    """One stored response; `wire` is status line + "Age: N" + headers + body, ready to write.

    Age is the first header so its digits start at a small fixed offset (`age_at`); a hit in a new
    second rebuilds `wire` once and later hits in that second return the same bytes object. Only
    what the hit path reads is a field (every field costs 8-32 bytes per entry; the budget is < 300 B);
    status, age_base and the stale rules are derived or kept in `rules`.
    """

    wire: bytes
    age_at: int
    fresh_until: float
    memo_until: float
    rules: StaleRules | None = None
    ref: bool = False

    @property
    def status(self) -> int:
        """The stored status code, read from the status line."""
        return int(self.wire[9:12])

    @property
    def age_base(self) -> float:
        """response_time - corrected_initial_age: the current age is now - age_base (RFC 9111 §4.2.3)."""
        wire = self.wire
        return self.memo_until - 1 - int(wire[self.age_at : wire.index(b"\r", self.age_at)])

    @property
    def swr_until(self) -> float | None:
        """End of the stale-while-revalidate window (RFC 5861 §3), if any."""
        return self.rules.swr_until if self.rules is not None else None

    @property
    def sie_until(self) -> float | None:
        """End of the stale-if-error window (RFC 5861 §4), if any."""
        return self.rules.sie_until if self.rules is not None else None

    @property
    def no_stale(self) -> bool:
        """True when must-revalidate, proxy-revalidate or no-cache forbid serving it stale."""
        return self.rules is not None and self.rules.no_stale

    @property
    def edge_directives(self) -> tuple[bytes, bytes] | None:
        """The RFC 9213 targeted field that applied: never sent to viewers, kept for 304 merges."""
        return self.rules.edge_directives if self.rules is not None else None

    def wire_at(self, now: float) -> bytes:
        """The whole response with the Age for `now`."""
        if now < self.memo_until:
            return self.wire
        wire = self.wire
        end = wire.index(b"\r", self.age_at)
        age_base = self.memo_until - 1 - int(wire[self.age_at : end])
        age = int(now - age_base) if now > age_base else 0
        self.wire = wire = b"%s%d%s" % (wire[: self.age_at], age, wire[end:])
        self.memo_until = age_base + age + 1
        return wire

    @property
    def head_len(self) -> int:
        """Length of the status line and header section, blank line included."""
        return self.wire.index(b"\r\n\r\n") + 4

    def head_at(self, now: float) -> bytes:
        """Status line and headers only, for HEAD (RFC 9110 §9.3.2)."""
        wire = self.wire_at(now)
        return wire[: wire.index(b"\r\n\r\n") + 4]

    @property
    def body(self) -> bytes:
        """The stored content."""
        return self.wire[self.head_len :]

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The stored header fields as (name, value), without Age."""
        lines = self.wire[: self.head_len - 4].split(b"\r\n")[2:]  # status line and Age come first
        return [(name, value.strip()) for name, _, value in (line.partition(b":") for line in lines)]

    def header(self, name: bytes) -> bytes | None:
        """The first value of stored field `name` (lower-case), or None."""
        for field_name, value in self.headers():
            if field_name.lower() == name:
                return value
        return None


def make_entry(
    response: ResponseFacts,
    body: bytes,
    *,
    lifetime: float,
    no_stale: bool,
    request_time: float,
    response_time: float,
    targeted: Sequence[bytes] = DEFAULT_TARGETED,
    extra_head: bytes = b"",
) -> CacheEntry:
    """Build the stored form of a complete origin response; `extra_head` holds ready header lines."""
    initial_age = corrected_initial_age(response.date, response.age, request_time, response_time)
    age_base = response_time - initial_age
    age = int(initial_age)
    status = response.status
    status_line = b"HTTP/1.1 %d %s\r\n" % (status, reason_phrase(status))
    skip = connection_fields(response.headers) | _OWN_FIELDS | frozenset(targeted)
    if response.date is None:
        # RFC 9110 §6.6.1: a cache adds the Date it received a response at when the origin sent none;
        # a present valid Date is kept as is (RFC 9111 §4.2.3 ages it).
        skip |= {b"date"}
    parts = [status_line, b"Age: %d\r\n" % age]
    parts.extend(b"%s: %s\r\n" % (n, v) for n, v in response.headers if n.lower() not in skip)
    if response.date is None:
        parts.append(b"Date: %s\r\n" % format_http_date(response_time))
    if status != 204:  # RFC 9110 §8.6: no Content-Length on 204
        parts.append(b"Content-Length: %d\r\n" % len(body))
    parts += [extra_head, b"\r\n", body]
    cc = response.cache_control
    fresh_until = age_base + lifetime
    rules = StaleRules(
        swr_until=fresh_until + cc.stale_while_revalidate if cc.stale_while_revalidate else None,
        sie_until=fresh_until + cc.stale_if_error if cc.stale_if_error else None,
        no_stale=no_stale,
        edge_directives=_edge_directives(response, targeted),
    )
    return CacheEntry(
        wire=b"".join(parts),
        age_at=len(status_line) + 5,
        fresh_until=fresh_until,
        memo_until=age_base + age + 1,
        rules=None if rules == _NO_RULES else rules,
    )


def reason_phrase(status: int) -> bytes:
    """The standard reason phrase of `status`, or empty (RFC 9112 §4 allows an empty one)."""
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _edge_directives(response: ResponseFacts, targeted: Sequence[bytes]) -> tuple[bytes, bytes] | None:
    """The targeted field that applied, kept aside: viewers never see it, a 304 merge needs it."""
    if response.directives_from not in targeted:
        return None
    return next((n, v) for n, v in response.headers if n.lower() == response.directives_from)
