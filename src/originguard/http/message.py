# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The request type handed by the server to applications (its body: http.body).

Sans-IO: rule matching (gate.rules) and the WAF read requests without pulling in asyncio; the
body, which waits for the network, lives in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from originguard.http.request_checks import HeaderIndex, index_headers

if TYPE_CHECKING:  # a request only carries its body; the connection makes it
    from originguard.http.body import Body

Header = tuple[bytes, bytes]

NO_VALUES: Final[tuple[bytes, ...]] = ()

_PARTITION: Final = bytes.partition  # see raw_head


class Request:
    """One parsed request head; `headers` are as sent (original case, original order)."""

    __slots__ = (
        "_lower",
        "body",
        "client_ip",
        "client_port",
        "context",
        "expect_continue",
        "headers",
        "host",
        "keep_alive",
        "method",
        "path",
        "query",
        "scheme",
        "server_port",
        "source",
        "started_at",
        "target",
        "tls_version",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        path: bytes,
        query: bytes,
        version: bytes,
        headers: list[Header],
        host: bytes,
        keep_alive: bool,
        client_ip: str,
        client_port: int,
        scheme: str,
        server_port: int,
        tls_version: str | None,
        body: Body | None = None,
        expect_continue: bool = False,
        started_at: float = 0.0,
        context: object = None,
        _lower: HeaderIndex | None = None,
        source: bytes | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.host = host
        self.keep_alive = keep_alive
        self.client_ip = client_ip
        self.client_port = client_port
        self.scheme = scheme
        self.server_port = server_port
        self.tls_version = tls_version
        self.body = body
        self.expect_continue = expect_continue
        self.started_at = started_at
        self.context = context  # what the fast path decided, handed to the slow path
        self._lower = _lower
        self.source = source  # the read this request's head began, when it began one

    def raw_head(self) -> bytes | None:
        """The head as received, request line through its last field's value (without the CRLF
        that ends that line and the blank line), when the read that brought it began with it and
        held it whole; else None (split across reads, pipelined)."""
        source = self.source
        method = self.method
        size = len(method)
        if source is None or len(source) <= size or source[size] != 32 or not source.startswith(method):
            return None  # starting mid-request (a method split across reads) or after empty lines
        # partition takes one argument: no argument parsing, unlike find (compiled, per request);
        # called as a function, with no lookup by name.
        head, blank, _ = _PARTITION(source, b"\r\n\r\n")
        return head if blank else None

    def __repr__(self) -> str:
        # Headers are left out: they may carry the origin secret.
        return f"Request({self.method!r} {self.target!r} from {self.client_ip})"

    def header_values(self, lower_name: bytes) -> tuple[bytes, ...]:
        """Every value of a field, by lower-cased name (the index is built on first use)."""
        return self.header_index().get(lower_name, NO_VALUES)

    def header_index(self) -> HeaderIndex:
        """Lower-cased name → values, for every field (built on first use)."""
        if self._lower is None:
            self._lower = index_headers(self.headers)
        return self._lower

    def header(self, lower_name: bytes) -> bytes | None:
        """The first value of a field, or None."""
        values = self.header_values(lower_name)
        return values[0] if values else None
