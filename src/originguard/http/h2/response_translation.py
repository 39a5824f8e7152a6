# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""HTTP/1.1 response bytes, as apps write them, -> an HTTP/2 response head and body (pure).

Apps answer a viewer by writing HTTP/1.1 octets: a prebuilt deny or cache hit from `respond_now`,
`ResponseWriter`'s head and body, a relay's forwarded head and body. An HTTP/2 stream reads them
back here, so every app (the WAF's block page, the cache, the secret-header relay) answers HTTP/2
viewers unchanged. The bytes are ours (rendered or already parsed by llhttp upstream), so this
reads them without re-validating them, but it never trusts them to frame the HTTP/2 stream: the
stream ends when the app says its response is done.

Cut on the way (RFC 9113 §8.2.2): connection-specific fields and the fields named in Connection;
names are lower-cased (§8.2.1). Interim 1xx heads are dropped. A chunked body is de-chunked.
"""

from __future__ import annotations

from typing import Final

Header = tuple[bytes, bytes]

HOP_BY_HOP: Final = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"te", b"trailer")
)
NO_BODY: Final = frozenset((204, 304))
HEAD_END: Final = b"\r\n\r\n"
MAX_HEAD: Final = 256 * 1024  # a head longer than this from our own apps is a bug: fail the stream

# Body framing states
READING_HEAD: Final = 0
RAW_BODY: Final = 1  # Content-Length or until the app ends the response
CHUNK_SIZE: Final = 2
CHUNK_DATA: Final = 3
CHUNK_DATA_END: Final = 4
TRAILERS: Final = 5
DONE: Final = 6


class TranslationError(Exception):
    """The app wrote something that is not an HTTP/1.1 response (a bug in the app)."""


class ResponseTranslator:
    """One stream's response: `feed` the app's octets, then take the head once and body as it comes."""

    __slots__ = ("buffer", "chunk_left", "head", "head_only", "left", "state", "status")

    def __init__(self, head_request: bool) -> None:
        self.head_only = head_request
        self.state = READING_HEAD
        self.buffer = b""
        self.status = 0
        self.head: list[Header] | None = None  # set once the final head is read, until taken
        self.left = -1  # Content-Length octets still to come, -1: unknown
        self.chunk_left = 0

    @property
    def complete(self) -> bool:
        """The whole response is in (its length was known and reached)."""
        return self.state == DONE

    def feed(self, data: bytes) -> bytes:
        """The body octets `data` completes (the head, once whole, is in `head`)."""
        if self.state == DONE:
            return b""
        if self.state == READING_HEAD:
            data = self._head(data)
            if self.state == READING_HEAD or self.state == DONE:
                return b""
        if self.state == RAW_BODY:
            if self.left >= 0:
                if len(data) >= self.left:
                    data = data[: self.left]
                    self.left = 0
                    self.state = DONE
                else:
                    self.left -= len(data)
            return data
        return self._chunked(data)

    def _head(self, data: bytes) -> bytes:
        buffer = self.buffer + data if self.buffer else data
        while True:
            head, found, rest = buffer.partition(HEAD_END)
            if not found:
                if len(buffer) > MAX_HEAD:
                    raise TranslationError("response head too long")
                self.buffer = buffer
                return b""
            self.buffer = b""
            status, fields, chunked, length = _parse_head(head)
            if 100 <= status < 200:  # interim: not forwarded here
                buffer = rest
                continue
            self.status = status
            self.head = fields
            if self.head_only or status in NO_BODY:
                self.state = DONE
            elif chunked:
                self.state = CHUNK_SIZE
            else:
                self.state = RAW_BODY
                self.left = length
                if length == 0:
                    self.state = DONE
            return rest

    def _chunked(self, data: bytes) -> bytes:
        """RFC 9112 §7.1, for the chunked bodies an app may write; trailers are dropped."""
        out: list[bytes] = []
        buffer = self.buffer + data if self.buffer else data
        self.buffer = b""
        pos = 0
        while pos < len(buffer) and self.state != DONE:
            if self.state == CHUNK_DATA:
                take = min(self.chunk_left, len(buffer) - pos)
                out.append(buffer[pos : pos + take])
                pos += take
                self.chunk_left -= take
                if not self.chunk_left:
                    self.state = CHUNK_DATA_END
                continue
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                self.buffer = buffer[pos:]
                break
            line = buffer[pos:line_end]
            pos = line_end + 2
            if self.state == CHUNK_SIZE:
                size_text = line.partition(b";")[0].strip()
                try:
                    self.chunk_left = int(size_text, 16)
                except ValueError:
                    raise TranslationError("bad chunk size") from None
                self.state = CHUNK_DATA if self.chunk_left else TRAILERS
            elif self.state == CHUNK_DATA_END:
                self.state = CHUNK_SIZE
            elif not line:  # TRAILERS: the blank line ends the body
                self.state = DONE
        return b"".join(out)


def _parse_head(head: bytes) -> tuple[int, list[Header], bool, int]:
    """(status, h2 fields, chunked, content-length or -1) of an HTTP/1.1 response head."""
    lines = head.split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12:
        raise TranslationError("not an HTTP/1.1 status line")
    try:
        status = int(status_line[9:12])
    except ValueError:
        raise TranslationError("bad status code") from None
    parsed: list[Header] = []
    dropped: set[bytes] = set()
    chunked = False
    length = -1
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        lower = name.strip().lower()
        value = value.strip()
        if lower == b"connection":
            dropped.update(token.strip().lower() for token in value.split(b","))
        elif lower == b"transfer-encoding":
            chunked = value.lower().endswith(b"chunked")
        elif lower == b"content-length" and value.isdigit():
            length = int(value)
        parsed.append((lower, value))
    fields = [(n, v) for n, v in parsed if n not in HOP_BY_HOP and n not in dropped]
    if chunked:
        length = -1
        fields = [(n, v) for n, v in fields if n != b"content-length"]
    return status, fields, chunked, length
