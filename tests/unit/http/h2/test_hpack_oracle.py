"""Differential HPACK tests: ours against python-hyper's `hpack` (the oracle) in both directions."""

from __future__ import annotations

import hpack
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.http.h2.hpack import Decoder, Encoder
from originguard.http.h2.hpack_tables import STATIC_TABLE

Fields = list[tuple[bytes, bytes]]

# Names and values drawn from the static table (so index paths are taken), a few repeated custom
# ones (so the dynamic table is hit and evicted), and arbitrary octets (Huffman on every symbol).
NAMES = st.one_of(
    st.sampled_from([name for name, _ in STATIC_TABLE]),
    st.sampled_from([b"x-a", b"x-request-id", b"custom-key"]),
    st.binary(min_size=1, max_size=20).map(lambda raw: raw.lower()),
)
VALUES = st.one_of(
    st.sampled_from([value for _, value in STATIC_TABLE]),
    st.sampled_from([b"1", b"gzip", b"a" * 300]),
    st.binary(max_size=80),
)
FIELD_LISTS = st.lists(st.tuples(NAMES, VALUES), max_size=12)
# A block, optionally preceded by a change of the table size setting.
STEPS = st.lists(
    st.tuples(st.one_of(st.none(), st.sampled_from([0, 64, 256, 4096])), FIELD_LISTS), max_size=8
)


def as_pairs(decoded: list[tuple[bytes, bytes]]) -> Fields:
    return [(bytes(name), bytes(value)) for name, value in decoded]


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_blocks_encoded_by_hpack_decode_identically_with_ours(steps: list[tuple[int | None, Fields]]) -> None:
    theirs = hpack.Encoder()
    ours = Decoder()
    for size, fields in steps:
        if size is not None:
            theirs.header_table_size = size
        block = theirs.encode(fields, huffman=True)
        assert ours.decode(block) == fields
        assert ours.table.size == theirs.header_table._current_size


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_blocks_encoded_by_ours_decode_identically_with_hpack(steps: list[tuple[int | None, Fields]]) -> None:
    ours = Encoder()
    theirs = hpack.Decoder(max_header_list_size=1 << 30)
    for size, fields in steps:
        if size is not None:
            ours.set_max_table_size(size)
        block = ours.encode(fields, sensitive=frozenset({b"x-a"}))
        decoded = theirs.decode(block, raw=True)
        assert as_pairs(decoded) == fields
        never = [i for i, field in enumerate(decoded) if isinstance(field, hpack.NeverIndexedHeaderTuple)]
        assert never == [
            i
            for i, (name, value) in enumerate(fields)
            if name in (b"x-a", b"authorization", b"proxy-authorization")
            or (name == b"cookie" and len(value) < 20)
        ]
        assert theirs.header_table._current_size == ours.table.size


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_octets_are_refused_or_decoded_as_hpack_decodes_them(block: bytes) -> None:
    try:
        expected: Fields | None = as_pairs(hpack.Decoder().decode(block, raw=True))
    except (hpack.HPACKError, IndexError, ValueError):
        expected = None
    try:
        got: Fields | None = Decoder().decode(block)
    except Exception as error:  # only our one error type may come out
        assert type(error).__name__ == "H2CompressionError"
        got = None
    assert got == expected
