# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Compiled (mypyc): HPACK Huffman coding (RFC 7541 §5.2, Appendix B), one table step per input byte.

The decoder is a byte-at-a-time state machine built at import from the RFC's code table: a state is
an internal node of the Huffman tree (there are 256), and for each (state, byte) pair the table holds
the node reached and the symbols completed on the way (at most two: the shortest code has 5 bits).
Decoding is then one `bytes` index and one list index per input byte, instead of a walk per bit.
Padding is checked as §5.2 says: after the last byte the state must lie on the all-ones path (a
prefix of EOS) at most 7 bits deep, and a completed EOS anywhere is an error.
"""

from __future__ import annotations

from typing import Final

from originguard.errors import H2CompressionError
from originguard.http.h2.hpack_tables import HUFFMAN_CODES

EOS: Final = 256


def _tree() -> list[list[int]]:
    """Internal nodes as [child for bit 0, child for bit 1]: >= 0 a node, < 0 a leaf -(symbol + 1)."""
    nodes: list[list[int]] = [[0, 0]]
    for symbol, (code, length) in enumerate(HUFFMAN_CODES):
        node = 0
        for shift in range(length - 1, 0, -1):
            bit = (code >> shift) & 1
            child = nodes[node][bit]
            if child <= 0:  # 0 is the root, never a child: an empty slot
                child = len(nodes)
                nodes.append([0, 0])
                nodes[node][bit] = child
            node = child
        nodes[node][code & 1] = -(symbol + 1)
    return nodes


def _tables() -> tuple[bytes, list[bytes], bytes]:
    """(next state per state*256+byte, symbols emitted per step, accepting final states)."""
    nodes = _tree()
    accepting = bytearray(len(nodes))
    node, depth = 0, 0
    while depth <= 7:  # §5.2: padding is at most 7 bits of the EOS code (all ones)
        accepting[node] = 1
        node, depth = nodes[node][1], depth + 1
    next_states = bytearray(len(nodes) * 256)
    emitted: list[bytes] = []
    for state in range(len(nodes)):
        for byte in range(256):
            node, out, failed = state, bytearray(), False
            for shift in range(7, -1, -1):
                child = nodes[node][(byte >> shift) & 1]
                if child < 0:
                    if -child - 1 == EOS:
                        failed = True
                        break
                    out.append(-child - 1)
                    child = 0
                node = child
            next_states[state * 256 + byte] = node
            emitted.append(FAILED if failed else bytes(out))
    return bytes(next_states), emitted, bytes(accepting)


# Marks a step that completes EOS (three bytes: no real step emits more than two).
FAILED: Final = b"EOS"
NEXT_STATE, EMITTED, ACCEPTING = _tables()
_NEXT: Final[bytes] = NEXT_STATE
_EMITTED: Final[list[bytes]] = EMITTED
_ACCEPTING: Final[bytes] = ACCEPTING
_CODES: Final[list[int]] = [code for code, _ in HUFFMAN_CODES]
_LENGTHS: Final[list[int]] = [length for _, length in HUFFMAN_CODES]
_JOIN: Final = b"".join


def huffman_decode(data: bytes) -> bytes:
    """The octets a Huffman-coded string literal stands for; H2CompressionError on bad padding or EOS."""
    state = 0
    parts: list[bytes] = []
    for byte in data:
        step = (state << 8) | byte
        chunk = _EMITTED[step]
        if len(chunk):
            if chunk is FAILED:
                raise H2CompressionError("HPACK: Huffman string contains EOS (RFC 7541 §5.2)")
            parts.append(chunk)
        state = _NEXT[step]
    if not _ACCEPTING[state]:
        raise H2CompressionError("HPACK: invalid Huffman padding (RFC 7541 §5.2)")
    return _JOIN(parts)


def huffman_length(data: bytes) -> int:
    """Octets `huffman_encode(data)` takes, to choose the shorter form."""
    bits = 0
    for byte in data:
        bits += _LENGTHS[byte]
    return (bits + 7) >> 3


def huffman_encode(data: bytes) -> bytes:
    """`data` Huffman-coded, padded with the most significant bits of EOS (ones)."""
    out: list[int] = []
    acc = 0
    bits = 0
    for byte in data:
        acc = (acc << _LENGTHS[byte]) | _CODES[byte]
        bits += _LENGTHS[byte]
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
        acc &= (1 << bits) - 1
    if bits:
        out.append(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xFF)
    return bytes(out)
