"""HTTP/2 wire codec (RFC 9113 frames, RFC 7541 HPACK), sans-IO and compiled (mypyc).

What a connection layer calls, per connection (one object of each per direction, used in order):
- `frames.FrameReader(is_server=True).feed(data) -> list[Frame]`: the frames a read completes,
  whatever the split; HEADERS + CONTINUATIONs come out as one frame with the whole field block;
  a connection error raises `H2Error`, a stream error comes out as `frame.error`;
- `hpack.Decoder(max_header_list_size).decode(frame.data) -> list[tuple[bytes, bytes]]`;
- `hpack.Encoder(sensitive=frozenset({secret_header_name})).encode(headers) -> bytes`;
- `frame_writer.serialize_headers / serialize_data / serialize_settings / serialize_settings_ack /
  serialize_ping / serialize_rst_stream / serialize_goaway / serialize_window_update -> bytes`.
Settings reach the codec as attributes and calls: our SETTINGS_MAX_FRAME_SIZE once ACKed is
`reader.max_frame_size`, our SETTINGS_HEADER_TABLE_SIZE `decoder.set_max_allowed_table_size`, the
peer's SETTINGS_HEADER_TABLE_SIZE `encoder.set_max_table_size`.

Errors are `originguard.errors.H2Error` (`code`: the RFC 9113 §7 error code; `stream_id`: 0 for a
connection error).

Above the codec, still sans-IO: `connection.H2ServerConnection` (streams, their states and
flow-control windows, SETTINGS negotiation, GOAWAY, the abuse budgets), `request_head` (the
request mapping onto `http.message.Request`) and `response_translation` (an app's HTTP/1.1
response octets back into a head and body). The asyncio shell is `http.h2_server`.
"""
