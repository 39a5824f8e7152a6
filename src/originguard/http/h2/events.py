# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What `connection.H2ServerConnection.receive` reports, one object per happening (plain data)."""

from __future__ import annotations

from originguard.http.message import Request


class RequestReceived:
    """A stream's request head; `end_stream`: no body follows."""

    __slots__ = ("end_stream", "request", "stream_id")

    def __init__(self, stream_id: int, request: Request, end_stream: bool) -> None:
        self.stream_id = stream_id
        self.request = request
        self.end_stream = end_stream


class DataReceived:
    """Body octets of a stream; hand `flow_length` back (`acknowledge`) once they are consumed."""

    __slots__ = ("data", "flow_length", "stream_id")

    def __init__(self, stream_id: int, data: bytes, flow_length: int) -> None:
        self.stream_id = stream_id
        self.data = data
        self.flow_length = flow_length


class StreamEnded:
    """The client's request on this stream is complete (END_STREAM)."""

    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id


class StreamReset:
    """The stream ended early: the client's RST_STREAM (`remote`), or ours for its error."""

    __slots__ = ("error_code", "reason", "remote", "stream_id")

    def __init__(self, stream_id: int, error_code: int, remote: bool, reason: str) -> None:
        self.stream_id = stream_id
        self.error_code = error_code
        self.remote = remote
        self.reason = reason


class RequestRefused:
    """A request we answered ourselves with a 4xx (as the HTTP/1.1 path refuses it): for the log."""

    __slots__ = ("reason", "status", "stream_id")

    def __init__(self, stream_id: int, status: int, reason: str) -> None:
        self.stream_id = stream_id
        self.status = status
        self.reason = reason


class ConnectionTerminated:
    """GOAWAY went out for an error of the client's, or came in: no new stream will be served."""

    __slots__ = ("error_code", "last_stream_id", "reason", "remote")

    def __init__(self, error_code: int, last_stream_id: int, remote: bool, reason: str) -> None:
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.remote = remote
        self.reason = reason


Event = RequestReceived | DataReceived | StreamEnded | StreamReset | RequestRefused | ConnectionTerminated
