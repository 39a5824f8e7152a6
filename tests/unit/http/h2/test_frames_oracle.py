"""Frames: hyperframe (the oracle) serializes, ours parses the same on any split, and the reverse."""

from __future__ import annotations

from typing import Any

import hyperframe.frame as hf
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.errors import H2Error
from originguard.http.h2 import frame_writer as fw
from originguard.http.h2.frame_types import PREFACE, Frame
from originguard.http.h2.frames import FrameReader

STREAM = st.integers(1, 2**31 - 1)
PAD = st.one_of(st.none(), st.integers(0, 255))
PAYLOAD = st.binary(max_size=300)


def padded(cls: Any, stream: int, data: bytes, pad: int | None, flags: list[str], **kw: Any) -> hf.Frame:
    if pad is not None:
        return cls(stream, data=data, flags=[*flags, "PADDED"], pad_length=pad, **kw)
    return cls(stream, data=data, flags=flags, **kw)


FRAMES = st.one_of(
    st.builds(
        lambda s, d, p, e: padded(hf.DataFrame, s, d, p, ["END_STREAM"] if e else []),
        STREAM,
        PAYLOAD,
        PAD,
        st.booleans(),
    ),
    st.builds(
        lambda s, d, p, e, prio: padded(
            hf.HeadersFrame,
            s,
            d,
            p,
            ["END_HEADERS", *(["END_STREAM"] if e else []), *(["PRIORITY"] if prio else [])],
            **({"depends_on": prio[0], "stream_weight": prio[1], "exclusive": prio[2]} if prio else {}),
        ),
        STREAM,
        PAYLOAD,
        PAD,
        st.booleans(),
        st.one_of(st.none(), st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 255), st.booleans())),
    ),
    st.builds(
        lambda s, d, w, x: hf.PriorityFrame(s, depends_on=d, stream_weight=w, exclusive=x),
        STREAM,
        st.integers(0, 2**31 - 1),
        st.integers(0, 255),
        st.booleans(),
    ),
    st.builds(lambda s, c: hf.RstStreamFrame(s, error_code=c), STREAM, st.integers(0, 2**32 - 1)),
    st.builds(
        lambda entries: hf.SettingsFrame(0, settings=entries),
        st.dictionaries(
            st.sampled_from([1, 3, 6]),
            st.integers(0, 2**32 - 1),
        ).map(lambda d: {**d, 4: 65535, 5: 16384, 2: 0}),
    ),
    st.just(hf.SettingsFrame(0, flags=["ACK"])),
    st.builds(
        lambda o, a: hf.PingFrame(0, opaque_data=o, flags=["ACK"] if a else []),
        st.binary(min_size=8, max_size=8),
        st.booleans(),
    ),
    st.builds(
        lambda last, code, extra: hf.GoAwayFrame(
            0, last_stream_id=last, error_code=code, additional_data=extra
        ),
        st.integers(0, 2**31 - 1),
        st.integers(0, 2**32 - 1),
        st.binary(max_size=40),
    ),
    st.builds(
        lambda s, i: hf.WindowUpdateFrame(s, window_increment=i),
        st.integers(0, 2**31 - 1),
        st.integers(1, 2**31 - 1),
    ),
)


def theirs(frame: hf.Frame) -> tuple[Any, ...]:
    flags = set(frame.flags)
    kind = frame.type
    if isinstance(frame, hf.DataFrame):
        return (kind, frame.stream_id, "END_STREAM" in flags, bytes(frame.data), frame.flow_controlled_length)
    if isinstance(frame, hf.HeadersFrame):
        prio = (
            (frame.depends_on, frame.stream_weight + 1, frame.exclusive)
            if "PRIORITY" in flags
            else (0, 16, False)
        )
        return (kind, frame.stream_id, "END_STREAM" in flags, bytes(frame.data), prio)
    if isinstance(frame, hf.PriorityFrame):
        return (kind, frame.stream_id, (frame.depends_on, frame.stream_weight + 1, frame.exclusive))
    if isinstance(frame, hf.RstStreamFrame):
        return (kind, frame.stream_id, frame.error_code)
    if isinstance(frame, hf.SettingsFrame):
        return (kind, "ACK" in flags, sorted(frame.settings.items()))
    if isinstance(frame, hf.PingFrame):
        return (kind, "ACK" in flags, bytes(frame.opaque_data))
    if isinstance(frame, hf.GoAwayFrame):
        return (kind, frame.last_stream_id, frame.error_code, bytes(frame.additional_data))
    assert isinstance(frame, hf.WindowUpdateFrame)
    return (kind, frame.stream_id, frame.window_increment)


def ours(frame: Frame) -> tuple[Any, ...]:
    kind = frame.kind
    if kind == 0:
        return (kind, frame.stream_id, frame.end_stream, frame.data, frame.length)
    if kind == 1:
        return (
            kind,
            frame.stream_id,
            frame.end_stream,
            frame.data,
            (frame.depends_on, frame.weight, frame.exclusive),
        )
    if kind == 2:
        return (kind, frame.stream_id, (frame.depends_on, frame.weight, frame.exclusive))
    if kind == 3:
        return (kind, frame.stream_id, frame.error_code)
    if kind == 4:
        return (kind, frame.ack, sorted(frame.settings))
    if kind == 6:
        return (kind, frame.ack, frame.data)
    if kind == 7:
        return (kind, frame.last_stream_id, frame.error_code, frame.data)
    return (kind, frame.stream_id, frame.increment)


def parse_theirs(data: bytes) -> list[hf.Frame]:
    frames = []
    while data:
        frame, length = hf.Frame.parse_frame_header(memoryview(data[:9]))
        frame.parse_body(memoryview(data[9 : 9 + length]))
        frames.append(frame)
        data = data[9 + length :]
    return frames


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[Frame]:
    reader = FrameReader(max_frame_size=2**24 - 1)
    frames: list[Frame] = []
    last = 0
    for cut in [*sorted(cuts), len(data)]:
        frames += reader.feed(data[last:cut])
        last = cut
    assert not reader.buffer
    return frames


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAMES, max_size=8), st.data())
def test_frames_serialized_by_hyperframe_parse_identically_on_any_split(
    frames: list[hf.Frame], data: Any
) -> None:
    stream = b"".join(frame.serialize() for frame in frames)
    cuts = data.draw(st.lists(st.integers(0, len(PREFACE) + len(stream)), max_size=10))
    parsed = feed_in_pieces(PREFACE + stream, cuts)
    assert [ours(frame) for frame in parsed] == [theirs(frame) for frame in frames]


def test_every_single_split_and_octet_by_octet_feeding_give_the_same_frames() -> None:
    frames = [
        hf.SettingsFrame(0, settings={4: 65535}),
        hf.HeadersFrame(1, data=b"\x82\x86\x84", flags=["END_HEADERS", "PADDED"], pad_length=3),
        hf.DataFrame(1, data=b"hello", flags=["END_STREAM"]),
        hf.WindowUpdateFrame(0, window_increment=1000),
        hf.PingFrame(0, opaque_data=b"12345678"),
    ]
    stream = PREFACE + b"".join(frame.serialize() for frame in frames)
    expected = [theirs(frame) for frame in frames]
    for cut in range(len(stream) + 1):
        assert [ours(frame) for frame in feed_in_pieces(stream, [cut])] == expected, cut
    assert [ours(frame) for frame in feed_in_pieces(stream, list(range(len(stream))))] == expected


def test_headers_and_continuations_come_out_as_one_field_block() -> None:
    block = bytes(range(256)) * 100
    wire = fw.serialize_headers(5, block, end_stream=True, max_frame_size=16384)
    assert [type(frame).__name__ for frame in parse_theirs(wire)] == ["HeadersFrame", "ContinuationFrame"]
    (frame,) = FrameReader(expect_preface=False, max_field_block_size=1 << 20).feed(wire)
    assert (frame.kind, frame.stream_id, frame.end_stream, frame.end_headers, frame.data) == (
        1,
        5,
        True,
        True,
        block,
    )


@settings(max_examples=200, deadline=None)
@given(
    STREAM,
    PAYLOAD,
    st.booleans(),
    st.integers(0, 2**32 - 1),
    st.integers(1, 2**31 - 1),
    st.binary(max_size=30),
)
def test_frames_we_serialize_parse_with_hyperframe(
    stream: int, payload: bytes, end: bool, code: int, increment: int, debug: bytes
) -> None:
    wire = b"".join(
        [
            fw.serialize_settings([(1, 4096), (3, 100), (4, 65535)]),
            fw.serialize_settings_ack(),
            fw.serialize_headers(stream, payload, end_stream=end, max_frame_size=16384),
            fw.serialize_data(stream, payload, end_stream=end),
            fw.serialize_ping(b"abcdefgh", ack=True),
            fw.serialize_rst_stream(stream, code),
            fw.serialize_goaway(stream, code, debug),
            fw.serialize_window_update(stream, increment),
        ]
    )
    expected = [
        hf.SettingsFrame(0, settings={1: 4096, 3: 100, 4: 65535}),
        hf.SettingsFrame(0, flags=["ACK"]),
        hf.HeadersFrame(stream, data=payload, flags=["END_HEADERS", *(["END_STREAM"] if end else [])]),
        hf.DataFrame(stream, data=payload, flags=["END_STREAM"] if end else []),
        hf.PingFrame(0, opaque_data=b"abcdefgh", flags=["ACK"]),
        hf.RstStreamFrame(stream, error_code=code),
        hf.GoAwayFrame(0, last_stream_id=stream, error_code=code, additional_data=debug),
        hf.WindowUpdateFrame(stream, window_increment=increment),
    ]
    parsed = parse_theirs(wire)
    assert [theirs(frame) for frame in parsed] == [theirs(frame) for frame in expected]
    assert b"".join(frame.serialize() for frame in expected) == wire


def read_all(wire: bytes, cuts: list[int]) -> tuple[list[tuple[Any, ...]], tuple[int, int] | None]:
    """(frames as parsed, (code, stream) of the connection error or None), feeding `wire` in pieces."""
    reader = FrameReader(is_server=False)
    frames: list[tuple[Any, ...]] = []
    last = 0
    try:
        for cut in [*sorted(cuts), len(wire)]:
            for frame in reader.feed(wire[last:cut]):
                error = (frame.error.code, frame.error.stream_id) if frame.error else None
                frames.append((frame.kind, frame.flags, frame.stream_id, frame.length, frame.data, error))
            last = cut
    except H2Error as error:
        return frames, (error.code, error.stream_id)
    return frames, None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=6))
def test_arbitrary_octets_give_frames_or_one_h2_error_the_same_on_any_split(
    wire: bytes, cuts: list[int]
) -> None:
    whole = read_all(wire, [])
    assert read_all(wire, [min(cut, len(wire)) for cut in cuts])[1] == whole[1]
    if whole[1] is None:
        assert read_all(wire, [min(cut, len(wire)) for cut in cuts]) == whole
