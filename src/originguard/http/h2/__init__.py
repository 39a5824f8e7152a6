"""HTTP/2 wire codec (RFC 9113 frames, RFC 7541 HPACK), sans-IO and compiled (mypyc).

- `hpack.Decoder` / `hpack.Encoder`: header blocks <-> (name, value) lists, one per connection side;
- `frames.FrameReader`: bytes in any split -> `Frame`s, with the frame-level rules of RFC 9113 §6;
- `frame_writer.serialize_*`: the frames a server sends, as bytes.

Errors are `originguard.errors.H2Error` (with the §7 error code and the stream, 0 for the connection).
The connection state machine (streams, flow-control windows, SETTINGS negotiation) sits above this.
"""
