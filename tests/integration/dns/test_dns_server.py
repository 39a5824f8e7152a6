"""The DNS router over real UDP and TCP sockets, with dnspython as the client."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest

from tests.integration.dns.harness import start_router

LONG_TEXT = "k=" + "z" * 900

CONFIG = f"""
edges:
  - {{name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:8443}}
  - {{name: edge-eu, region: eu-west-1, https: 127.0.0.1:8444}}
dns:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  zone: cdn.example.test.
  latency:
    203.0.113.0/24: {{ap-southeast-1: 15, eu-west-1: 180}}
    198.51.100.0/24: {{ap-southeast-1: 170, eu-west-1: 11}}
  records:
    - {{name: www, policy: latency,
       targets: [{{edge: edge-sg, address: 192.0.2.1}}, {{edge: edge-eu, address: 192.0.2.2}}]}}
    - {{name: big, txt: ["{LONG_TEXT}"]}}
"""

TIMEOUT = 2.0


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


def a_query(name: str = "www.cdn.example.test.", **kwargs: object) -> dns.message.Message:
    return dns.message.make_query(name, "A", **kwargs)  # type: ignore[arg-type]


def test_answers_over_udp_and_tcp_on_the_same_port(tmp_path: Path) -> None:
    async def scenario() -> None:
        router = await start_router(CONFIG, tmp_path)
        try:
            udp = await dns.asyncquery.udp(a_query(), "127.0.0.1", port=router.port, timeout=TIMEOUT)
            tcp = await dns.asyncquery.tcp(a_query(), "127.0.0.1", port=router.port, timeout=TIMEOUT)
            for response in (udp, tcp):
                assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
                assert len(response.answer[0]) == 1
        finally:
            await router.aclose()

    run(scenario())


def test_ecs_chooses_the_nearest_edge_for_the_clients_subnet_and_echoes_scope(tmp_path: Path) -> None:
    async def scenario() -> None:
        router = await start_router(CONFIG, tmp_path)
        try:
            answers = {}
            for subnet in ("203.0.113.0", "198.51.100.0"):
                query = a_query(use_edns=0, options=[dns.edns.ECSOption(subnet, 24)])
                response = await dns.asyncquery.udp(query, "127.0.0.1", port=router.port, timeout=TIMEOUT)
                (echo,) = response.options
                assert isinstance(echo, dns.edns.ECSOption) and echo.scopelen == 24
                answers[subnet] = response.answer[0][0].address
            assert answers == {"203.0.113.0": "192.0.2.1", "198.51.100.0": "192.0.2.2"}
        finally:
            await router.aclose()

    run(scenario())


def test_a_txt_answer_over_512_bytes_truncates_on_udp_and_arrives_whole_over_tcp(tmp_path: Path) -> None:
    async def scenario() -> None:
        router = await start_router(CONFIG, tmp_path)
        try:
            query = dns.message.make_query("big.cdn.example.test.", "TXT")
            udp = await dns.asyncquery.udp(query, "127.0.0.1", port=router.port, timeout=TIMEOUT)
            assert udp.flags & dns.flags.TC and not udp.answer
            whole, used_tcp = await dns.asyncquery.udp_with_fallback(
                query, "127.0.0.1", port=router.port, timeout=TIMEOUT
            )
            assert used_tcp and b"".join(whole.answer[0][0].strings).decode() == LONG_TEXT
        finally:
            await router.aclose()

    run(scenario())


def raw_udp(port: int, payload: bytes, expect_reply: bool) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3 if not expect_reply else TIMEOUT)
        sock.sendto(payload, ("127.0.0.1", port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\xc0\x0c\x00\x01\x00\x01",  # pointer loop
        b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fwww",  # label runs past the end
        b"\xbe\xef\x01\x00\x00\x05\x00\x00\x00\x00\x00\x00",  # five questions announced, none sent
    ],
)
def test_malformed_packets_get_formerr_and_the_server_keeps_serving(tmp_path: Path, garbage: bytes) -> None:
    async def scenario() -> None:
        router = await start_router(CONFIG, tmp_path)
        try:
            reply = await asyncio.to_thread(raw_udp, router.port, garbage, True)
            assert reply is not None and reply[:2] == b"\xbe\xef"
            assert dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR
            assert await asyncio.to_thread(raw_udp, router.port, b"\x01", False) is None  # too short: dropped
            reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
            writer.write(len(garbage).to_bytes(2, "big") + garbage)
            length = int.from_bytes(await reader.readexactly(2), "big")
            assert dns.message.from_wire(await reader.readexactly(length)).rcode() == dns.rcode.FORMERR
            writer.close()
            response = await dns.asyncquery.udp(a_query(), "127.0.0.1", port=router.port, timeout=TIMEOUT)
            assert response.rcode() == dns.rcode.NOERROR
        finally:
            await router.aclose()

    run(scenario())


def test_tcp_carries_pipelined_queries_on_one_connection(tmp_path: Path) -> None:
    async def scenario() -> None:
        router = await start_router(CONFIG, tmp_path)
        try:
            queries = [a_query(), dns.message.make_query("nope.cdn.example.test.", "A")]
            reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
            writer.write(b"".join(len(w).to_bytes(2, "big") + w for w in (q.to_wire() for q in queries)))
            rcodes = []
            for query in queries:
                length = int.from_bytes(await reader.readexactly(2), "big")
                response = dns.message.from_wire(await reader.readexactly(length))
                assert response.id == query.id
                rcodes.append(response.rcode())
            writer.close()
            assert rcodes == [dns.rcode.NOERROR, dns.rcode.NXDOMAIN]
        finally:
            await router.aclose()

    run(scenario())
