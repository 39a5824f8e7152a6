"""The TLS objects our contexts make (sans-IO: two memory BIOs, no socket): DirectSSLObject calls
the C methods directly and behaves like ssl.SSLObject, handshake, records and errors alike."""

from __future__ import annotations

import ssl
import types

import pytest

from originguard.certs import CertFiles
from originguard.http.tls import DirectSSLObject, client_context, server_context


def pair(pki: dict[str, CertFiles]) -> tuple[ssl.SSLObject, ssl.SSLObject, list[ssl.MemoryBIO]]:
    """A server and a client object on four memory BIOs, handshake done."""
    server_ctx = server_context(pki["gate"].certificate, pki["gate"].key)
    client_ctx = client_context(pki["gate"].certificate.parent / "ca.crt")
    bios = [ssl.MemoryBIO() for _ in range(4)]  # to server, from server, to client, from client
    server = server_ctx.wrap_bio(bios[0], bios[1], server_side=True)
    client = client_ctx.wrap_bio(bios[2], bios[3], server_hostname="gate.originguard.test")
    for _ in range(10):
        done = 0
        for side in (client, server):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            shuttle(bios)
        if done == 2:
            return server, client, bios
    raise AssertionError("handshake did not finish")


def shuttle(bios: list[ssl.MemoryBIO]) -> None:
    bios[2].write(bios[1].read())
    bios[0].write(bios[3].read())


def test_our_contexts_make_direct_objects_whose_record_methods_are_the_c_ones(
    pki: dict[str, CertFiles],
) -> None:
    server, client, _ = pair(pki)
    for side in (server, client):
        assert isinstance(side, DirectSSLObject)
        for method in (side.read, side.write, side.pending):
            assert isinstance(method, types.BuiltinMethodType)
    assert server.version() in ("TLSv1.2", "TLSv1.3") and server.selected_alpn_protocol() == "http/1.1"


def test_records_flow_both_ways_as_with_ssl_sslobject(pki: dict[str, CertFiles]) -> None:
    server, client, bios = pair(pki)
    assert client.write(b"GET / HTTP/1.1\r\n\r\n") == 18
    shuttle(bios)
    assert server.read(1024) == b"GET / HTTP/1.1\r\n\r\n"
    with pytest.raises(ssl.SSLWantReadError):
        server.read(1024)  # nothing more: the same exception the Python wrapper raised
    server.write(b"x" * 5000)
    shuttle(bios)
    into = bytearray(8192)
    got = client.read(8192, into)  # uvloop's buffered read: into a caller's buffer
    while client.pending():
        got += client.read(8192 - got, memoryview(into)[got:])
    assert bytes(into[:got]) == b"x" * got and got > 0
