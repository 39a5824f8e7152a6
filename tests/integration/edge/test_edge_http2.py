"""HTTP/2 viewers on the edge's HTTPS listener: real TLS with ALPN, curl and the h2 library as clients.

The chain is the real one (edge → HTTPS/1.1 → gate → origin): an h2 request goes through the
same edge handling as an HTTP/1.1 one, so the cache, the WAF and the secret header behave the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import hyperframe.frame
import pytest

from originguard.certs import CertFiles
from tests.integration.edge.conftest import Chain, build_chain, stop_chain
from tests.integration.edge.test_edge_cache import EDGE, get
from tests.origin_app import Script
from tests.support import LoopThread
from tests.unit.http.h2.h2_peer import frames_of

CURL = shutil.which("curl")
needs_curl_http2 = pytest.mark.skipif(
    CURL is None
    or "HTTP2" not in subprocess.run([CURL or "curl", "--version"], capture_output=True, text=True).stdout,
    reason="curl with HTTP/2 support is not installed",
)


def curl(chain: Chain, path: str, *args: str) -> tuple[str, dict[str, str], bytes]:
    """(HTTP version, response headers, body) of one curl --http2 request through the edge."""
    head_file = chain.tmp / "curl-head.txt"
    done = subprocess.run(
        [
            CURL or "curl",
            "--http2",
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            CA[0],
            "--resolve",
            f"{EDGE}:{chain.https}:127.0.0.1",
            "-D",
            str(head_file),
            "-w",
            "%{http_version}",
            "-o",
            str(chain.tmp / "curl-body"),
            *args,
            f"https://{EDGE}:{chain.https}{path}",
        ],
        capture_output=True,
        check=True,
    )
    lines = head_file.read_text().splitlines()
    headers = {"status": lines[0].split()[1]}
    headers.update(
        (n.strip().lower(), v.strip())
        for n, _, v in (line.partition(":") for line in lines[1:] if ":" in line)
    )
    return done.stdout.decode(), headers, (chain.tmp / "curl-body").read_bytes()


CA: list[str] = []  # the session CA's certificate path (the `ca` fixture sets it)


@pytest.fixture(autouse=True)
def ca(pki: dict[str, CertFiles]) -> None:
    CA[:] = [str(pki["ca"].certificate)]


@needs_curl_http2
def test_curl_http2_gets_a_miss_then_a_hit_over_h2(chain: Chain) -> None:
    version, first, body = curl(chain, "/page2")
    assert version == "2" and first["status"] == "200" and body == b"hello from the origin\n"
    assert first["x-cache"] == "Miss from originguard" and first["via"] == "1.1 edge-test (originguard)"
    version, second, body = curl(chain, "/page2")
    assert (
        version == "2" and second["x-cache"] == "Hit from originguard" and body == b"hello from the origin\n"
    )
    assert chain.origin.hits[b"/page2"] == 1
    # an HTTP/1.1 viewer shares the same cache entry
    assert get(chain, "/page2").header("x-cache") == "Hit from originguard"


@needs_curl_http2
def test_curl_http2_is_blocked_by_the_waf_as_http1_is(chain: Chain) -> None:
    version, headers, _ = curl(chain, "/search?q=1%27%20OR%20%271%27%3D%271")
    assert version == "2" and headers["status"] == "403"
    assert chain.origin.hits[b"/search"] == 0


@needs_curl_http2
def test_curl_http2_relay_is_signed_with_the_secret_and_the_viewer_never_sees_it(
    tmp_path: Path, pki: dict[str, CertFiles], loop_thread: LoopThread
) -> None:
    chain = build_chain(tmp_path, pki, loop_thread, strip=False)  # the origin sees, and echoes, the secret
    try:
        chain.origin.scripts[b"/api/echo"] = Script(
            headers=[(b"Cache-Control", b"no-store")], echo_request_headers=True
        )
        version, headers, body = curl(chain, "/api/echo", "-H", "X-Origin-Verify: forged")
        assert version == "2" and headers["status"] == "200" and headers["x-cache"] == "Miss from originguard"
        assert "x-origin-verify" not in headers and chain.secret.encode() not in body
        assert chain.secret not in (chain.tmp / "curl-head.txt").read_text()
        seen = {n.lower(): v for n, v in chain.origin.seen[-1][1]}
        assert seen[b"x-origin-verify"] == chain.secret.encode()  # signed, the viewer's copy replaced
        assert seen[b"x-forwarded-for"] == b"127.0.0.1, 127.0.0.1"
        assert b"edge-test" in seen[b"via"]
    finally:
        stop_chain(chain, loop_thread)


@needs_curl_http2
def test_curl_http2_post_body_reaches_the_origin(chain: Chain) -> None:
    payload = bytes(range(256)) * 1200  # 307,200 octets: beyond one stream window
    (chain.tmp / "payload").write_bytes(payload)
    version, headers, _ = curl(chain, "/api/upload", "--data-binary", f"@{chain.tmp / 'payload'}")
    assert version == "2" and headers["status"] == "200"
    assert chain.origin.bodies[b"/api/upload"] == payload


def _h2_socket(chain: Chain) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=CA[0])
    context.set_alpn_protocols(["h2", "http/1.1"])
    sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", chain.https), timeout=5), server_hostname=EDGE
    )
    assert sock.selected_alpn_protocol() == "h2"
    return sock


def _drive(sock: ssl.SSLSocket, peer: h2.connection.H2Connection, until: object) -> list[h2.events.Event]:
    events: list[h2.events.Event] = []
    sock.sendall(peer.data_to_send())
    while not until(events):  # type: ignore[operator]
        data = sock.recv(65536)
        if not data:
            break
        events += peer.receive_data(data)
        sock.sendall(peer.data_to_send())
    return events


def test_an_h2_client_multiplexes_streams_on_one_tls_connection(chain: Chain) -> None:
    peer = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    peer.initiate_connection()
    with _h2_socket(chain) as sock:
        for index, stream_id in enumerate((1, 3, 5, 7)):
            peer.send_headers(
                stream_id,
                [
                    (b":method", b"GET"),
                    (b":scheme", b"https"),
                    (b":authority", EDGE.encode()),
                    (b":path", b"/m%d" % index),
                ],
                end_stream=True,
            )
        events = _drive(
            sock, peer, lambda seen: len([e for e in seen if isinstance(e, h2.events.StreamEnded)]) == 4
        )
    bodies: dict[int, bytes] = {}
    for event in events:
        if isinstance(event, h2.events.DataReceived):
            bodies[event.stream_id] = bodies.get(event.stream_id, b"") + event.data
    statuses = {
        e.stream_id: dict(e.headers)[b":status"] for e in events if isinstance(e, h2.events.ResponseReceived)
    }
    assert statuses == {1: b"200", 3: b"200", 5: b"200", 7: b"200"}
    assert set(bodies.values()) == {b"hello from the origin\n"}


def test_a_rapid_reset_flood_over_tls_gets_goaway_enhance_your_calm(chain: Chain) -> None:
    peer = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    peer.initiate_connection()
    with _h2_socket(chain) as sock:
        for stream_id in range(1, 1000, 2):  # CVE-2023-44487: open and cancel, 500 times
            peer.send_headers(
                stream_id,
                [
                    (b":method", b"GET"),
                    (b":scheme", b"https"),
                    (b":authority", EDGE.encode()),
                    (b":path", b"/rr"),
                ],
            )
            peer.reset_stream(stream_id)
        events = _drive(
            sock, peer, lambda seen: any(isinstance(e, h2.events.ConnectionTerminated) for e in seen)
        )
    ended = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
    assert ended and ended[0].error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert chain.origin.hits[b"/rr"] <= 101


def test_an_http1_only_client_still_gets_http1(chain: Chain) -> None:
    answer = get(chain, "/plain")
    assert answer.status == 200 and answer.raw.startswith(b"HTTP/1.1 200")


def _client(**settings: int) -> h2.connection.H2Connection:
    peer = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    if settings:
        peer.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes[k.upper()]: v for k, v in settings.items()}
        )
    peer.initiate_connection()
    return peer


def _get(path: bytes) -> list[tuple[bytes, bytes]]:
    return [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", EDGE.encode()), (b":path", path)]


@pytest.mark.parametrize("path", [b"/api/big", b"/big"])
def test_a_large_response_follows_a_small_client_window_to_the_last_octet(chain: Chain, path: bytes) -> None:
    """Relayed (/api: uncached) and from the cache (/big, second request): the edge sends no more
    than the client's window allows, and everything once the client reads."""
    payload = bytes(range(251)) * 4000  # 1,004,000 octets
    chain.origin.scripts[path] = Script(
        headers=[(b"Cache-Control", b"no-store" if path.startswith(b"/api") else b"max-age=60")], body=payload
    )
    if path == b"/big":
        get(chain, "/big")  # fill the cache over HTTP/1.1
    peer = _client(initial_window_size=16384)
    got = bytearray()
    with _h2_socket(chain) as sock:
        peer.send_headers(1, _get(path), end_stream=True)
        sock.sendall(peer.data_to_send())
        ended = False
        while not ended:
            data = sock.recv(65536)
            assert data, "the edge closed the connection"
            for event in peer.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    assert len(event.data) <= 16384  # never past the stream window
                    got += event.data
                    peer.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                ended = ended or isinstance(event, h2.events.StreamEnded)
            sock.sendall(peer.data_to_send())
    assert bytes(got) == payload


def test_edge_shutdown_sends_goaway_and_finishes_the_open_stream(
    chain: Chain, loop_thread: LoopThread
) -> None:
    chain.origin.scripts[b"/api/slow"] = Script(headers=[(b"Cache-Control", b"no-store")], delay=0.5)
    peer = _client()
    with _h2_socket(chain) as sock:
        peer.send_headers(1, _get(b"/api/slow"), end_stream=True)
        sock.sendall(peer.data_to_send())
        give_up = time.monotonic() + 5
        while chain.origin.hits[b"/api/slow"] == 0:  # the origin has it: the stream is in flight
            assert time.monotonic() < give_up, "the request never reached the origin"
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                peer.receive_data(sock.recv(65536))
        sock.settimeout(5)
        stopping = asyncio.run_coroutine_threadsafe(chain.edge.shutdown(5), loop_thread.loop)
        raw = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            raw += data
        stopping.result(10)
    frames = frames_of(raw)
    kinds = [type(f).__name__ for f in frames]
    assert "GoAwayFrame" in kinds and kinds.index("GoAwayFrame") < kinds.index("HeadersFrame")
    goaway = next(f for f in frames if isinstance(f, hyperframe.frame.GoAwayFrame))
    assert (goaway.error_code, goaway.last_stream_id) == (0, 1)
    body = b"".join(f.data for f in frames if isinstance(f, hyperframe.frame.DataFrame))
    assert body == b"hello from the origin\n" and "END_STREAM" in frames[-1].flags


def test_streams_for_large_objects_wait_while_the_connection_is_backlogged(chain: Chain) -> None:
    """A client that asks for 20 cached 1 MB objects and opens no window: the edge copies at most
    about CONNECTION_HIGH_WATER of them into its queues; the rest wait, and all arrive once it reads."""
    payload = b"z" * 1_000_000
    chain.origin.scripts[b"/big2"] = Script(body=payload)
    get(chain, "/big2")  # cached
    peer = _client(initial_window_size=0)
    bodies: dict[int, bytes] = {}
    ended: set[int] = set()
    with _h2_socket(chain) as sock:
        streams = list(range(1, 41, 2))
        for stream_id in streams:
            peer.send_headers(stream_id, _get(b"/big2"), end_stream=True)
        sock.sendall(peer.data_to_send())
        server = next(s for s in chain.edge.servers if s.h2 is not None)  # the HTTPS listener's
        give_up = time.monotonic() + 5
        while not server.h2_connections or len(next(iter(server.h2_connections)).waiting) == 0:
            assert time.monotonic() < give_up, "no stream was held back"
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                peer.receive_data(sock.recv(65536))
        held = len(next(iter(server.h2_connections)).waiting)
        assert 10 <= held < len(streams)
        sock.settimeout(5)
        peer.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        peer.increment_flow_control_window(1 << 30)
        sock.sendall(peer.data_to_send())
        while len(ended) < len(streams):
            data = sock.recv(65536)
            assert data
            for event in peer.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    bodies[event.stream_id] = bodies.get(event.stream_id, b"") + event.data
                    peer.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended.add(event.stream_id)
            sock.sendall(peer.data_to_send())
    assert all(bodies[s] == payload for s in streams)
