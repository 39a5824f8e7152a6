"""HPACK against RFC 7541 Appendix C byte for byte, and every decoding error with its error code."""

from __future__ import annotations

import pytest

from originguard.errors import H2CompressionError
from originguard.http.h2.hpack import Decoder, Encoder
from originguard.http.h2.huffman import huffman_decode, huffman_encode

Fields = list[tuple[bytes, bytes]]

REQUESTS: list[Fields] = [
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"), (b":authority", b"www.example.com")],
    [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":path", b"/"),
        (b":authority", b"www.example.com"),
        (b"cache-control", b"no-cache"),
    ],
    [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":path", b"/index.html"),
        (b":authority", b"www.example.com"),
        (b"custom-key", b"custom-value"),
    ],
]
REQUEST_TABLES: list[Fields] = [
    [(b":authority", b"www.example.com")],
    [(b"cache-control", b"no-cache"), (b":authority", b"www.example.com")],
    [(b"custom-key", b"custom-value"), (b"cache-control", b"no-cache"), (b":authority", b"www.example.com")],
]
REQUEST_SIZES = [57, 110, 164]
DATE1 = (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT")
DATE2 = (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT")
LOCATION = (b"location", b"https://www.example.com")
PRIVATE = (b"cache-control", b"private")
COOKIE = (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
RESPONSES: list[Fields] = [
    [(b":status", b"302"), PRIVATE, DATE1, LOCATION],
    [(b":status", b"307"), PRIVATE, DATE1, LOCATION],
    [(b":status", b"200"), PRIVATE, DATE2, LOCATION, (b"content-encoding", b"gzip"), COOKIE],
]
RESPONSE_TABLES: list[Fields] = [
    [LOCATION, DATE1, PRIVATE, (b":status", b"302")],
    [(b":status", b"307"), LOCATION, DATE1, PRIVATE],
    [COOKIE, (b"content-encoding", b"gzip"), DATE2],
]
RESPONSE_SIZES = [222, 222, 215]

C3 = [
    "828684410f7777772e6578616d706c652e636f6d",
    "828684be58086e6f2d6361636865",
    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
]
C4 = [
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
]
C5 = [
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
    "6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a6970"
    "7738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b"
    "2076657273696f6e3d31",
]
C6 = [
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960"
    "d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
]
CASES = [
    ("C.3", C3, REQUESTS, REQUEST_TABLES, REQUEST_SIZES, 4096, False),
    ("C.4", C4, REQUESTS, REQUEST_TABLES, REQUEST_SIZES, 4096, True),
    ("C.5", C5, RESPONSES, RESPONSE_TABLES, RESPONSE_SIZES, 256, False),
    ("C.6", C6, RESPONSES, RESPONSE_TABLES, RESPONSE_SIZES, 256, True),
]


@pytest.mark.parametrize(("section", "blocks", "lists", "tables", "sizes", "table_size", "huffman"), CASES)
def test_rfc7541_appendix_c_sequences_decode_and_encode_byte_for_byte(
    section: str,
    blocks: list[str],
    lists: list[Fields],
    tables: list[Fields],
    sizes: list[int],
    table_size: int,
    huffman: bool,
) -> None:
    decoder = Decoder(max_table_size=table_size)
    encoder = Encoder(max_table_size=table_size, huffman=huffman)
    for block, fields, table, size in zip(blocks, lists, tables, sizes, strict=True):
        assert decoder.decode(bytes.fromhex(block)) == fields, section
        assert decoder.table.fields() == table
        assert decoder.table.size == size
        assert encoder.encode(fields).hex() == block, section
        assert encoder.table.fields() == table


def test_rfc7541_c2_single_representations_and_their_table_effect() -> None:
    decoder = Decoder()
    # C.2.1 literal with indexing, C.2.2 without indexing, C.2.3 never indexed, C.2.4 indexed
    assert decoder.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")) == [
        (b"custom-key", b"custom-header")
    ]
    assert decoder.table.size == 55
    assert decoder.decode(bytes.fromhex("040c2f73616d706c652f70617468")) == [(b":path", b"/sample/path")]
    assert decoder.table.size == 55
    assert decoder.decode(bytes.fromhex("100870617373776f726406736563726574")) == [(b"password", b"secret")]
    assert decoder.never_indexed == [0]
    assert decoder.table.fields() == [(b"custom-key", b"custom-header")]
    assert decoder.decode(b"\x82") == [(b":method", b"GET")]
    assert decoder.never_indexed == []


def test_huffman_round_trips_every_octet() -> None:
    data = bytes(range(256)) * 3
    assert huffman_decode(huffman_encode(data)) == data
    assert huffman_encode(b"") == b""


def test_encoder_sends_credentials_short_cookies_and_sensitive_names_never_indexed() -> None:
    encoder = Encoder()
    decoder = Decoder()
    fields = [
        (b"authorization", b"Bearer abc"),
        (b"cookie", b"sid=1"),
        (b"cookie", b"a-long-cookie-value-over-twenty-octets"),
        (b"x-origin-verify", b"s3cret"),
        (b"accept", b"*/*"),
    ]
    block = encoder.encode(fields, sensitive=frozenset({b"x-origin-verify"}))
    assert decoder.decode(block) == fields
    assert decoder.never_indexed == [0, 1, 3]
    # nothing sensitive entered either table
    assert {name for name, _ in encoder.table.fields()} == {b"cookie", b"accept"}
    assert decoder.table.fields() == encoder.table.fields()


def bomb(entry_value_size: int, references: int) -> bytes:
    """One large literal entered into the table, then `references` one-octet references to it."""
    value = b"a" * entry_value_size
    literal = b"\x40\x01x" + bytes([0x7F]) + _continuation(entry_value_size - 127) + value
    return literal + b"\xbe" * references


def _continuation(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_hpack_bomb_stops_at_the_header_list_cap() -> None:
    decoder = Decoder(max_header_list_size=16384)
    block = bomb(4000, 10_000)  # ~14 KiB of input that would expand to 40 MB
    with pytest.raises(H2CompressionError) as caught:
        decoder.decode(block)
    assert caught.value.code == 0x9 and caught.value.stream_id == 0
    assert "MAX_HEADER_LIST_SIZE" in caught.value.reason


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (b"\x80", "index 0"),
        (b"\xbe", "past the dynamic table"),
        (b"\xff\xff\xff\xff\xff\xff\x01", "integer too large"),
        (b"\xff\x80", "past the end"),
        (b"\x40\x05ab", "past the end of the block"),
        (b"\x40", "missing"),
        (bytes.fromhex("4081fe0161"), "padding"),  # name "1111 1110": 7 one bits then a 0
        (bytes.fromhex("4084ffffffff0161"), "EOS"),  # 30 one bits: EOS inside the string
        (bytes.fromhex("4081ff0161"), "padding"),  # 8 bits of padding (§5.2: at most 7)
        (b"\x82\x3f\xe1\x1f", "after a field"),
        (b"\x3f\xe2\x1f", "above SETTINGS_HEADER_TABLE_SIZE"),  # 8193 > 4096
    ],
)
def test_invalid_blocks_are_compression_errors(block: bytes, reason: str) -> None:
    with pytest.raises(H2CompressionError) as caught:
        Decoder().decode(block)
    assert reason in caught.value.reason
    assert caught.value.code == 0x9


def test_lowered_table_size_setting_requires_a_size_update_first() -> None:
    decoder = Decoder()
    decoder.decode(bytes.fromhex(C4[0]))
    decoder.set_max_allowed_table_size(0)
    with pytest.raises(H2CompressionError, match="must start with a table size update"):
        decoder.decode(b"\x82")
    decoder = Decoder()
    decoder.decode(bytes.fromhex(C4[0]))
    decoder.set_max_allowed_table_size(0)
    assert decoder.decode(b"\x20\x82") == [(b":method", b"GET")]
    assert len(decoder.table) == 0


def test_encoder_signals_the_smallest_then_the_final_table_size() -> None:
    encoder = Encoder()
    encoder.set_max_table_size(0)
    encoder.set_max_table_size(1024)
    block = encoder.encode([(b":status", b"200")])
    assert block == b"\x20\x3f\xe1\x07\x88"  # size 0, then 1024 (§4.2), then :status 200
    assert Decoder().decode(block) == [(b":status", b"200")]


def test_a_string_longer_than_the_header_list_cap_is_refused_before_it_is_read() -> None:
    block = b"\x40\x7f\x81\x01" + b"n" * 300 + b"\x01v"  # a 256-octet name
    with pytest.raises(H2CompressionError, match="larger than the header list cap"):
        Decoder(max_header_list_size=200).decode(block)


def test_a_field_over_half_the_table_is_sent_without_indexing_and_keeps_the_table() -> None:
    encoder = Encoder()
    encoder.encode([(b"x-small", b"kept")])
    block = encoder.encode([(b"content-security-policy", b"d" * 3000)])
    assert block[0] & 0xF0 == 0x00  # §6.2.2 literal without indexing
    assert encoder.table.fields() == [(b"x-small", b"kept")]


def test_the_encoders_own_sensitive_names_go_never_indexed_and_their_values_are_not_kept() -> None:
    encoder = Encoder(sensitive=frozenset({b"x-origin-verify"}))
    decoder = Decoder()
    fields = [(b"x-origin-verify", b"s3cret-value"), (b"content-length", b"12")]
    for _ in range(2):
        assert decoder.decode(encoder.encode(fields)) == fields
        assert decoder.never_indexed == [0]
    assert b"s3cret-value" not in encoder.coded
    assert encoder.table.fields() == []
