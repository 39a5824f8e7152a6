"""The one exception tree of originguard.

    OriginguardError
    ├── ConfigError(file, key_path, problem)   bad config: the process does not start (exit 2)
    ├── SecretError                            a secret cannot be loaded (never carries the value)
    ├── ProtocolError(status)                  a peer broke HTTP/1.1; `status` is what it gets
    │   ├── BadRequest          400
    │   ├── RequestTimeout      408
    │   ├── BodyTooLarge        413
    │   ├── UriTooLong          414
    │   ├── ExpectationFailed   417
    │   ├── HeadersTooLarge     431
    │   └── VersionNotSupported 505
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
