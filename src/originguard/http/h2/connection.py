# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""One HTTP/2 server connection as a state machine (RFC 9113), sans-IO: bytes and `now` in, events out.

    receive(data, now) -> [RequestReceived | DataReceived | StreamEnded | StreamReset | ...]
    send_headers / send_data / reset_stream / acknowledge / start_shutdown -> queued frames
    tick(now) -> events of the deadlines (a stalled window, an idle stream or connection)
    data_to_send() -> the octets to write

The codec below (`frames`, `hpack`, `frame_writer`) checks single frames and blocks; this module
owns what spans frames: the preface SETTINGS and their ACK, PING, GOAWAY (graceful: the streams
up to its last-stream-id are finished), stream states (`TRANSITIONS`), both flow-control windows
in both directions (DATA we send waits for WINDOW_UPDATE), SETTINGS_MAX_CONCURRENT_STREAMS, and
the request rules (`request_head`). What it refuses with bounded cost:
- rapid reset (CVE-2023-44487): client resets spend a `Budget`; spent, GOAWAY ENHANCE_YOUR_CALM;
- PING and SETTINGS floods (answers we must queue): the same, on their own budget;
- CONTINUATION flood and the HPACK bomb: the reader's field-block cap and the decoder's header
  list cap (both connection errors, before anything is buffered past them);
- a zero-window stall: a response that cannot move for `stall_timeout` is reset (CANCEL), so a
  client that never opens its window cannot hold the response's memory;
- streams that stop sending their body (`body_timeout`) and idle connections (`idle_timeout`).
"""

from __future__ import annotations

from originguard.errors import H2CompressionError, H2Error, ProtocolError
from originguard.http.h2 import frame_writer
from originguard.http.h2.budget import Budget
from originguard.http.h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RequestReceived,
    RequestRefused,
    StreamEnded,
    StreamReset,
)
from originguard.http.h2.frame_types import (
    DATA,
    GOAWAY,
    HEADER_TABLE_SIZE,
    HEADERS,
    INITIAL_WINDOW_SIZE,
    MAX_CONCURRENT_STREAMS,
    MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE,
    MAX_WINDOW,
    PING,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Frame,
)
from originguard.http.h2.frames import FrameReader
from originguard.http.h2.hpack import Decoder, Encoder
from originguard.http.h2.request_head import HeadLimits, Origin, build_request
from originguard.http.h2.streams import (
    CANCEL,
    CLOSED,
    DEFAULT_WINDOW,
    ENABLE_PUSH,
    ENHANCE_YOUR_CALM,
    FLOW_CONTROL_ERROR,
    HALF_CLOSED_LOCAL,
    NO_ERROR,
    OPEN,
    PROTOCOL_ERROR,
    RECENTLY_RESET,
    RECV_END,
    REFUSED_STREAM,
    RESET,
    SEND_END,
    STREAM_CLOSED,
    H2Limits,
    Stream,
    transition,
)

Header = tuple[bytes, bytes]

__all__ = ["H2Limits", "H2ServerConnection"]


class H2ServerConnection:
    """The server side of one HTTP/2 connection, from the client preface on."""

    def __init__(self, limits: H2Limits, head_limits: HeadLimits, origin: Origin, now: float = 0.0) -> None:
        self.limits = limits
        # Copied out of the (interpreted, frozen) limits: read per frame, and a compiled build
        # reads its own attributes natively (docs/architecture.md, compiled code).
        self.max_concurrent_streams = limits.max_concurrent_streams
        self.initial_window_size = limits.initial_window_size
        self.connection_window = limits.connection_window
        self.stall_timeout = limits.stall_timeout
        self.body_timeout = limits.body_timeout
        self.idle_timeout = limits.idle_timeout
        self.head_limits = head_limits
        self.origin = origin
        self.now = now
        self.reader = FrameReader(is_server=True, max_field_block_size=limits.max_field_block_size)
        self.decoder = Decoder(limits.max_header_list_size)
        self.encoder = Encoder()
        self.streams: dict[int, Stream] = {}
        self.blocked: dict[int, Stream] = {}  # streams with response octets waiting for a window
        self.recently_reset: dict[int, None] = {}
        self.highest_stream_id = 0
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame_size = 16384
        self.send_window = DEFAULT_WINDOW  # the connection's, for what we send
        self.recv_window = limits.connection_window  # what the client may still send us
        self.recv_unacked = 0
        self.reset_budget = Budget(limits.reset_burst, limits.reset_rate, now)
        self.control_budget = Budget(limits.control_burst, limits.control_rate, now)
        self.goaway_sent = False
        self.goaway_received = False
        self.terminated = False  # a connection error: nothing more is read
        self.idle_since = now
        self.output: list[bytes] = []
        self.events: list[Event] = []
        # §3.4: our preface is a SETTINGS frame; push is off, and the window the client may fill.
        self.output.append(
            frame_writer.serialize_settings(
                [
                    (MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams),
                    (INITIAL_WINDOW_SIZE, limits.initial_window_size),
                    (MAX_HEADER_LIST_SIZE, limits.max_header_list_size),
                    (ENABLE_PUSH, 0),
                ]
            )
        )
        if limits.connection_window > DEFAULT_WINDOW:
            self.output.append(
                frame_writer.serialize_window_update(0, limits.connection_window - DEFAULT_WINDOW)
            )

    # -- state the shell reads -----------------------------------------------------------------

    @property
    def should_close(self) -> bool:
        """Nothing more will happen here: close once `data_to_send` is written."""
        return self.terminated or ((self.goaway_sent or self.goaway_received) and not self.streams)

    def buffered(self, stream_id: int) -> int:
        """Response octets of a stream waiting for the client's window."""
        stream = self.streams.get(stream_id)
        return stream.outbound_size if stream is not None else 0

    @property
    def buffered_total(self) -> int:
        """Response octets of every stream waiting for the client's windows."""
        return sum(stream.outbound_size for stream in self.blocked.values())

    def data_to_send(self) -> bytes:
        output = self.output
        if not output:
            return b""
        self.output = []
        return output[0] if len(output) == 1 else b"".join(output)

    # -- bytes in ------------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> list[Event]:
        """Feed what the client sent; the events it completes."""
        self.now = now
        if self.terminated:
            return []
        try:
            for frame in self.reader.feed(data):
                self._frame(frame)
                if self.terminated:
                    break
        except H2Error as exc:
            self._connection_error(exc.code, exc.reason)
        return self._take_events()

    def _frame(self, frame: Frame) -> None:
        kind = frame.kind
        if kind == DATA:
            self._data(frame)
        elif kind == HEADERS:
            self._headers(frame)
        elif kind == RST_STREAM:
            self._rst_stream(frame)
        elif kind == WINDOW_UPDATE:
            self._window_update(frame)
        elif kind == SETTINGS:
            self._settings(frame)
        elif kind == PING:
            if not frame.ack:
                self._spend_control()
                self.output.append(frame_writer.serialize_ping(frame.data, ack=True))
        elif kind == GOAWAY:
            self.goaway_received = True
            self.events.append(
                ConnectionTerminated(frame.error_code, frame.last_stream_id, True, "client GOAWAY")
            )
        elif frame.error is not None:  # PRIORITY with a stream error; otherwise ignored (RFC 9218)
            self._stream_error(frame.error.stream_id, frame.error.code, frame.error.reason)

    def _headers(self, frame: Frame) -> None:
        stream_id = frame.stream_id
        # Decode first, whatever happens to the stream: the HPACK context must stay in step (§4.3).
        try:
            fields = self.decoder.decode(frame.data)
        except H2CompressionError as exc:
            self._connection_error(exc.code, exc.reason)
            return
        stream = self.streams.get(stream_id)
        if stream is not None:
            self._trailers(stream, frame)
            return
        if stream_id % 2 == 0:
            raise H2Error("HTTP/2: a client opened an even-numbered stream (RFC 9113 §5.1.1)")
        if stream_id <= self.highest_stream_id:
            if stream_id in self.recently_reset:
                return  # §5.1: frames in flight when we reset it
            raise H2Error("HTTP/2: HEADERS on a closed stream (RFC 9113 §5.1)", 0, STREAM_CLOSED)
        self.highest_stream_id = stream_id
        if self.goaway_sent or self.goaway_received:
            return  # §6.8: above the last-stream-id of our GOAWAY, never processed
        if frame.error is not None:
            self._reset(stream_id, frame.error.code)
            return
        if len(self.streams) >= self.max_concurrent_streams:
            # §5.1.2; a client that ignores our SETTINGS spends its reset budget
            self._spend_resets()
            self._reset(stream_id, REFUSED_STREAM)
            return
        stream = Stream(stream_id, self.peer_initial_window, self.initial_window_size)
        stream.receive_deadline = self.now + self.body_timeout
        end_stream = frame.end_stream
        try:
            request, stream.expected_length = build_request(
                stream_id, fields, end_stream, self.origin, self.head_limits, self.now
            )
        except H2Error as exc:
            self._reset(stream_id, exc.code)
            return
        except ProtocolError as exc:
            self.streams[stream_id] = stream
            if end_stream:
                stream.state = transition(stream.state, RECV_END)
            self.events.append(RequestRefused(stream_id, exc.status, exc.reason))
            self._refuse(stream, exc.status, exc.reason)
            return
        self.streams[stream_id] = stream
        stream.delivered = True
        self.events.append(RequestReceived(stream_id, request, end_stream))
        if end_stream:
            self._received_end(stream)

    def _trailers(self, stream: Stream, frame: Frame) -> None:
        """HEADERS on an open stream: trailers, which end it (§8.1); their fields are dropped
        (nothing forwards them over HTTP/1.1)."""
        if stream.state != OPEN:
            self._stream_error(stream.stream_id, STREAM_CLOSED, "HEADERS after END_STREAM (RFC 9113 §5.1)")
        elif not frame.end_stream:
            self._stream_error(
                stream.stream_id, PROTOCOL_ERROR, "trailers without END_STREAM (RFC 9113 §8.1)"
            )
        else:
            self._received_end(stream)

    def _data(self, frame: Frame) -> None:
        length = frame.length
        self.recv_window -= length
        if self.recv_window < 0:
            raise H2Error("HTTP/2: DATA beyond the connection window (RFC 9113 §6.9)", 0, FLOW_CONTROL_ERROR)
        stream = self.streams.get(frame.stream_id)
        if stream is None:
            if frame.stream_id > self.highest_stream_id:
                raise H2Error("HTTP/2: DATA on an idle stream (RFC 9113 §5.1)")
            self._acknowledge_connection(length)  # a stream we closed: its octets are dropped
            return
        if stream.state != OPEN:
            self._acknowledge_connection(length)
            self._stream_error(stream.stream_id, STREAM_CLOSED, "DATA after END_STREAM (RFC 9113 §5.1)")
            return
        stream.recv_window -= length
        if stream.recv_window < 0:
            self._acknowledge_connection(length)
            self._stream_error(
                stream.stream_id, FLOW_CONTROL_ERROR, "DATA beyond the stream window (RFC 9113 §6.9)"
            )
            return
        data = frame.data
        if not len(data) and not frame.end_stream:
            self._spend_control()  # empty DATA frames cost us a frame each and carry nothing
        stream.received_length += len(data)
        if 0 <= stream.expected_length < stream.received_length:
            self._acknowledge_connection(length)
            self._stream_error(
                stream.stream_id, PROTOCOL_ERROR, "DATA beyond content-length (RFC 9113 §8.1.1)"
            )
            return
        if length > len(data):  # padding: flow-controlled, never handed on
            self.acknowledge(stream.stream_id, length - len(data))
        stream.receive_deadline = self.now + self.body_timeout
        if len(data):
            if stream.delivered:
                self.events.append(DataReceived(stream.stream_id, data, len(data)))
            else:
                self.acknowledge(stream.stream_id, len(data))  # a refused request's body
        if frame.end_stream:
            if 0 <= stream.expected_length != stream.received_length:
                self._stream_error(
                    stream.stream_id, PROTOCOL_ERROR, "DATA shorter than content-length (RFC 9113 §8.1.1)"
                )
                return
            self._received_end(stream)

    def _received_end(self, stream: Stream) -> None:
        stream.state = transition(stream.state, RECV_END)
        if stream.delivered:
            self.events.append(StreamEnded(stream.stream_id))
        if stream.state == CLOSED:
            self._forget(stream)

    def _rst_stream(self, frame: Frame) -> None:
        stream = self.streams.get(frame.stream_id)
        if stream is None:
            if frame.stream_id > self.highest_stream_id:
                raise H2Error("HTTP/2: RST_STREAM on an idle stream (RFC 9113 §6.4)")
            return
        stream.state = transition(stream.state, RESET)
        self._forget(stream)
        if stream.delivered:
            self.events.append(StreamReset(stream.stream_id, frame.error_code, True, "client RST_STREAM"))
        self._spend_resets()

    def _window_update(self, frame: Frame) -> None:
        if frame.error is not None:
            self._stream_error(frame.stream_id, frame.error.code, frame.error.reason)
            return
        if frame.stream_id == 0:
            self.send_window += frame.increment
            if self.send_window > MAX_WINDOW:
                raise H2Error(
                    "HTTP/2: connection window above 2^31-1 (RFC 9113 §6.9.1)", 0, FLOW_CONTROL_ERROR
                )
            self._flush_blocked()
            return
        stream = self.streams.get(frame.stream_id)
        if stream is None:
            if frame.stream_id > self.highest_stream_id:
                raise H2Error("HTTP/2: WINDOW_UPDATE on an idle stream (RFC 9113 §5.1)")
            return
        stream.send_window += frame.increment
        if stream.send_window > MAX_WINDOW:
            self._stream_error(
                stream.stream_id, FLOW_CONTROL_ERROR, "stream window above 2^31-1 (RFC 9113 §6.9.1)"
            )
            return
        self._flush(stream)

    def _settings(self, frame: Frame) -> None:
        if frame.ack:
            return  # our SETTINGS hold only values we honour from the start
        self._spend_control()
        for identifier, value in frame.settings:
            if identifier == INITIAL_WINDOW_SIZE:
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                for stream in self.streams.values():  # §6.9.2: every open stream's window moves
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        raise H2Error(
                            "HTTP/2: a stream window above 2^31-1 (RFC 9113 §6.9.2)", 0, FLOW_CONTROL_ERROR
                        )
            elif identifier == MAX_FRAME_SIZE:
                self.peer_max_frame_size = value
            elif identifier == HEADER_TABLE_SIZE:
                self.encoder.set_max_table_size(value)
        self.output.append(frame_writer.serialize_settings_ack())
        self._flush_blocked()

    # -- what the application sends ---------------------------------------------------------------

    def send_headers(
        self, stream_id: int, status: int, headers: list[Header], end_stream: bool = False
    ) -> bool:
        """A response head (lower-case names, no connection-specific fields); False: the stream is gone."""
        stream = self.streams.get(stream_id)
        if stream is None or self.terminated:
            return False
        block = self.encoder.encode([(b":status", b"%d" % status), *headers])
        self.output.append(
            frame_writer.serialize_headers(stream_id, block, end_stream, self.peer_max_frame_size)
        )
        if end_stream:
            self._sent_end(stream)
        return True

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> bool:
        """Queue body octets; they go out as the windows allow. False: the stream is gone."""
        stream = self.streams.get(stream_id)
        if stream is None or self.terminated or stream.end_queued:
            return False
        if len(data):
            stream.outbound.append(data)
            stream.outbound_size += len(data)
        stream.end_queued = end_stream
        self._flush(stream)
        return True

    def reset_stream(self, stream_id: int, error_code: int = CANCEL) -> None:
        """End a stream early (the app failed, or gave up on it)."""
        stream = self.streams.get(stream_id)
        if stream is not None and not self.terminated:
            stream.state = transition(stream.state, RESET)
            self._forget(stream)
            self._reset(stream_id, error_code)

    def acknowledge(self, stream_id: int, length: int) -> None:
        """The app consumed `length` body octets: the client may send as many again (§6.9)."""
        self._acknowledge_connection(length)
        stream = self.streams.get(stream_id)
        if stream is None or stream.state != OPEN:
            return
        stream.unacked += length
        if stream.unacked >= self.initial_window_size >> 1:
            stream.recv_window += stream.unacked
            self.output.append(frame_writer.serialize_window_update(stream_id, stream.unacked))
            stream.unacked = 0

    def start_shutdown(self) -> None:
        """Graceful stop (§6.8): the streams opened so far are served, later ones never."""
        if not self.goaway_sent and not self.terminated:
            self.goaway_sent = True
            self.output.append(frame_writer.serialize_goaway(self.highest_stream_id, NO_ERROR))

    def tick(self, now: float) -> list[Event]:
        """The deadline actions at `now`: stalled responses, silent request bodies, idleness."""
        self.now = now
        if self.terminated:
            return []
        for stream in list(self.streams.values()):
            if stream.stalled_since >= 0.0 and now - stream.stalled_since >= self.stall_timeout:
                self._stream_error(
                    stream.stream_id, CANCEL, "the client's window stayed closed (stall timeout)"
                )
            elif stream.state == OPEN and now >= stream.receive_deadline:
                self._stream_error(
                    stream.stream_id, CANCEL, "the request body stopped arriving (body timeout)"
                )
        if not self.streams and now - self.idle_since >= self.idle_timeout:
            self.start_shutdown()
        return self._take_events()

    # -- internals -----------------------------------------------------------------------------

    def _flush_blocked(self) -> None:
        for stream in list(self.blocked.values()):
            if self.send_window <= 0:
                return
            self._flush(stream)

    def _flush(self, stream: Stream) -> None:
        """Send what the windows allow of a stream's queued octets, and its end once all are out."""
        outbound = stream.outbound
        while outbound and self.send_window > 0 and stream.send_window > 0:
            chunk = outbound[0]
            size = min(len(chunk), self.send_window, stream.send_window, self.peer_max_frame_size)
            if size == len(chunk):
                outbound.popleft()
            else:
                outbound[0] = chunk[size:]
                chunk = chunk[:size]
            self.send_window -= size
            stream.send_window -= size
            stream.outbound_size -= size
            end = stream.end_queued and not outbound
            self.output.append(frame_writer.serialize_data(stream.stream_id, chunk, end))
            if end:
                self._sent_end(stream)
                return
        if outbound:
            if stream.stalled_since < 0.0:
                stream.stalled_since = self.now
            self.blocked[stream.stream_id] = stream
            return
        stream.stalled_since = -1.0
        self.blocked.pop(stream.stream_id, None)
        if stream.end_queued:  # an empty DATA frame ends it: it needs no window (§6.9.1)
            self.output.append(frame_writer.serialize_data(stream.stream_id, b"", True))
            self._sent_end(stream)

    def _sent_end(self, stream: Stream) -> None:
        stream.end_queued = True
        stream.state = transition(stream.state, SEND_END)
        if stream.state == HALF_CLOSED_LOCAL:
            # §8.1: the response is complete; the rest of the request body is not wanted.
            self.output.append(frame_writer.serialize_rst_stream(stream.stream_id, NO_ERROR))
            stream.state = CLOSED
            self._remember_reset(stream.stream_id)
        self._forget(stream)

    def _refuse(self, stream: Stream, status: int, reason: str) -> None:
        body = reason.encode("utf-8", "replace") + b"\n"
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        self.send_headers(stream.stream_id, status, headers)
        self.send_data(stream.stream_id, body, True)

    def _forget(self, stream: Stream) -> None:
        if stream.state != CLOSED:
            return
        self.streams.pop(stream.stream_id, None)
        self.blocked.pop(stream.stream_id, None)
        if not self.streams:
            self.idle_since = self.now

    def _stream_error(self, stream_id: int, code: int, reason: str) -> None:
        """RST_STREAM for one stream's error (§5.4.2); the app hears of it if it had the request."""
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream.state = transition(stream.state, RESET)
            self._forget(stream)
            if stream.delivered:
                self.events.append(StreamReset(stream_id, code, False, reason))
        self._reset(stream_id, code)

    def _reset(self, stream_id: int, code: int) -> None:
        self.output.append(frame_writer.serialize_rst_stream(stream_id, code))
        self._remember_reset(stream_id)

    def _remember_reset(self, stream_id: int) -> None:
        self.recently_reset[stream_id] = None
        if len(self.recently_reset) > RECENTLY_RESET:
            del self.recently_reset[next(iter(self.recently_reset))]

    def _acknowledge_connection(self, length: int) -> None:
        self.recv_unacked += length
        if self.recv_unacked >= self.connection_window >> 1:
            self.recv_window += self.recv_unacked
            self.output.append(frame_writer.serialize_window_update(0, self.recv_unacked))
            self.recv_unacked = 0

    def _spend_resets(self) -> None:
        if not self.reset_budget.spend(self.now):
            raise H2Error(
                "HTTP/2: too many stream resets (rapid reset, CVE-2023-44487)", 0, ENHANCE_YOUR_CALM
            )

    def _spend_control(self) -> None:
        if not self.control_budget.spend(self.now):
            raise H2Error("HTTP/2: too many PING, SETTINGS or empty DATA frames", 0, ENHANCE_YOUR_CALM)

    def _connection_error(self, code: int, reason: str) -> None:
        """GOAWAY with the error (§5.4.1); every stream ends with the connection."""
        if self.terminated:
            return
        self.terminated = True
        self.output.append(frame_writer.serialize_goaway(self.highest_stream_id, code))
        self.events.append(ConnectionTerminated(code, self.highest_stream_id, False, reason))
        for stream in self.streams.values():
            if stream.delivered:
                self.events.append(StreamReset(stream.stream_id, code, False, reason))
        self.streams.clear()
        self.blocked.clear()

    def _take_events(self) -> list[Event]:
        events = self.events
        self.events = []
        return events
