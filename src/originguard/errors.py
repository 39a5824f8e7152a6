"""The one exception tree of originguard.

    OriginguardError
    ├── ConfigError(file, key_path, problem)   bad config: the process does not start (exit 2)
    │   └── SecLangError(file, line, directive, problem)  a rule file the SecLang engine refuses
    ├── SecretError                            a secret cannot be loaded (never carries the value)
    ├── ProtocolError(status)                  a peer broke HTTP/1.1; `status` is what it gets
    │   ├── BadRequest          400
    │   ├── RequestTimeout      408
    │   ├── BodyTooLarge        413
    │   ├── UriTooLong          414
    │   ├── ExpectationFailed   417
    │   ├── HeadersTooLarge     431
    │   └── VersionNotSupported 505
    ├── H2Error(reason, stream_id, code)       a peer broke HTTP/2 (RFC 9113 §5.4); `code` is the §7
    │   │                                      error code it gets; stream 0: GOAWAY, else RST_STREAM
    │   ├── H2CompressionError   COMPRESSION_ERROR (0x9): HPACK state is lost, always the connection
    │   └── H2FrameSizeError     FRAME_SIZE_ERROR (0x6)
    ├── UpstreamError(kind)                    connect | timeout | tls | protocol | closed
    └── DnsError                               the DNS router cannot answer or start

Only the CLI turns these into exit codes; only `http.errors` turns them into status codes.
"""

from __future__ import annotations

from typing import Literal


class OriginguardError(Exception):
    """Root of every error originguard raises on purpose."""


class ConfigError(OriginguardError):
    """A config file is invalid; names the file, the key path and what is wrong."""

    def __init__(self, file: str, key_path: str, problem: str) -> None:
        self.file = file
        self.key_path = key_path
        self.problem = problem
        where = f"{file}: {key_path}" if key_path else file
        super().__init__(f"{where}: {problem}")


class ConfigErrors(ConfigError):
    """Several config problems at once; `check` prints every one."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.key_path, first.problem)
        self.args = ("\n".join(str(e) for e in errors),)


class SecretError(OriginguardError):
    """A secret could not be loaded; the message names where from, never the value."""


class ProtocolError(OriginguardError):
    """The peer sent something HTTP/1.1 forbids; `status` is the response it gets."""

    status = 400

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BadRequest(ProtocolError):
    status = 400


class RequestTimeout(ProtocolError):
    status = 408


class BodyTooLarge(ProtocolError):
    status = 413


class UriTooLong(ProtocolError):
    status = 414


class HeadersTooLarge(ProtocolError):
    status = 431


class VersionNotSupported(ProtocolError):
    status = 505


class ExpectationFailed(ProtocolError):
    status = 417


class H2Error(OriginguardError):
    """The peer broke HTTP/2: a connection error (GOAWAY) when `stream_id` is 0, else a stream error."""

    code = 0x1  # PROTOCOL_ERROR (RFC 9113 §7)

    def __init__(self, reason: str, stream_id: int = 0, code: int = 0) -> None:
        self.reason = reason
        self.stream_id = stream_id
        if code:
            self.code = code
        super().__init__(reason)


class H2CompressionError(H2Error):
    """An HPACK block could not be decoded (RFC 7541 §2.4 / RFC 9113 §4.3): always a connection error."""

    code = 0x9


class H2FrameSizeError(H2Error):
    """A frame is longer than allowed or shorter than its fields (RFC 9113 §4.2)."""

    code = 0x6


UpstreamErrorKind = Literal["connect", "timeout", "tls", "protocol", "closed"]


class UpstreamError(OriginguardError):
    """An upstream (origin or target) could not give a response."""

    def __init__(self, kind: UpstreamErrorKind, detail: str, *, connecting: bool = False) -> None:
        self.kind = kind
        self.detail = detail
        # No connection was made (refused, connect timeout, TLS handshake): the upstream got no
        # byte of the request, so any request may go to another upstream.
        self.connecting = connecting
        super().__init__(f"upstream {kind}: {detail}")


class DnsError(OriginguardError):
    """The DNS router cannot start or answer."""


class SecLangError(ConfigError):
    """A SecLang rule file holds what the engine cannot parse or does not implement.

    One line: `file:line: problem: directive` (the directive shortened), so a refused CRS rule is
    found without a traceback.
    """

    def __init__(self, file: str, line: int, directive: str, problem: str) -> None:
        self.line = line
        self.directive = directive
        shown = " ".join(directive.split())
        if len(shown) > 160:
            shown = shown[:157] + "..."
        super().__init__(f"{file}:{line}", "", f"{problem}: {shown}" if shown else problem)
