"""Interim (1xx) responses from a target through the gate, over real TLS, on both forwarding paths:
the coroutine path (a cold pool) and the relay (a warm connection). 103 Early Hints and the other
1xx go on before the final response, cut of hop-by-hop fields; 100 does not; an HTTP/1.0 client
gets none; a 101 or a ninth interim response makes the answer a 502 (http/interim.py)."""

from __future__ import annotations

import socket

import pytest

from originguard.http.client import MAX_RESPONSE_HEAD
from originguard.http.interim import MAX_INTERIM_RESPONSES
from tests.integration.gate.test_relay import Relayed, relayed, warm  # noqa: F401 (a fixture)
from tests.raw_upstream import Reply, ok
from tests.support import connect, read_all, read_response

HINT = b"HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload; as=script\r\n"
HINT_AS_SENT = HINT + b"Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n\r\n"
HINT_FORWARDED = HINT + b"\r\n"
FINAL = ok(b"page").data

# The first request of a session warms the pool through the coroutine path; the next is relayed.
PATHS = ["coroutine", "relay"]


def session(setup: Relayed, path: str) -> socket.socket:
    sock = setup.session()
    if path == "relay":
        warm(setup, sock)
    return sock


def ran_as(setup: Relayed, path: str, relayed_before: float) -> None:
    assert setup.relayed() == relayed_before + (1 if path == "relay" else 0)


@pytest.mark.parametrize("path", PATHS)
def test_early_hints_reach_the_client_before_the_final_response_without_hop_by_hop_fields(
    relayed: Relayed,  # noqa: F811
    path: str,
) -> None:
    with session(relayed, path) as sock:
        before = relayed.relayed()
        relayed.upstream.replies.append(Reply(HINT_AS_SENT + FINAL))
        sock.sendall(relayed.admitted("/hinted"))
        assert read_response(sock).raw == HINT_FORWARDED
        final = read_response(sock)
        assert (final.status, final.body) == (200, b"page")
        ran_as(relayed, path, before)
        sock.sendall(relayed.admitted("/again"))  # the connection goes on after an interim head
        assert read_response(sock).status == 200


@pytest.mark.parametrize("path", PATHS)
def test_an_early_hint_goes_out_while_the_target_has_not_answered_yet(
    relayed: Relayed,  # noqa: F811
    path: str,
) -> None:
    with session(relayed, path) as sock:
        relayed.upstream.replies.append(Reply(HINT_AS_SENT, hang=True))  # no final response, ever
        sock.sendall(relayed.admitted("/thinking"))
        assert read_response(sock).raw == HINT_FORWARDED
        assert read_response(sock).status == 504  # the target's read timeout (2 s) still holds


@pytest.mark.parametrize("path", PATHS)
def test_100_from_the_target_is_dropped_and_102_and_103_go_on_in_order(
    relayed: Relayed,  # noqa: F811
    path: str,
) -> None:
    with session(relayed, path) as sock:
        data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + HINT_AS_SENT + FINAL
        relayed.upstream.replies.append(Reply(data, split=(25, 60)))  # heads across reads too
        sock.sendall(relayed.admitted("/slow"))
        assert read_response(sock).raw == b"HTTP/1.1 102 Processing\r\n\r\n"
        assert read_response(sock).raw == HINT_FORWARDED
        assert read_response(sock).status == 200


@pytest.mark.parametrize("path", PATHS)
def test_an_http10_client_gets_the_final_response_only(relayed: Relayed, path: str) -> None:  # noqa: F811
    if path == "relay":
        with relayed.session() as sock:
            warm(relayed, sock)
    before = relayed.relayed()
    relayed.upstream.replies.append(Reply(HINT_AS_SENT + FINAL))
    with connect(relayed.port, tls=relayed.tls) as sock:
        sock.sendall(relayed.admitted("/old", version="1.0"))
        raw = read_all(sock)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and b"HTTP/1.1 103" not in raw and raw.endswith(b"page")
    ran_as(relayed, path, before)


@pytest.mark.parametrize("path", PATHS)
def test_more_interim_responses_than_the_bound_get_a_502_after_those_within_it(
    relayed: Relayed,  # noqa: F811
    path: str,
) -> None:
    with session(relayed, path) as sock:
        relayed.upstream.replies.append(Reply(HINT_AS_SENT * (MAX_INTERIM_RESPONSES + 1) + FINAL))
        sock.sendall(relayed.admitted("/chatty"))
        for _ in range(MAX_INTERIM_RESPONSES):
            assert read_response(sock).raw == HINT_FORWARDED
        assert read_response(sock).status == 502


@pytest.mark.parametrize("path", PATHS)
def test_a_101_the_gate_never_asked_for_gets_a_502(relayed: Relayed, path: str) -> None:  # noqa: F811
    with session(relayed, path) as sock:
        upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        relayed.upstream.replies.append(Reply(upgrade + b"\x81\x05hello"))
        sock.sendall(relayed.admitted("/ws"))
        assert read_response(sock).status == 502


@pytest.mark.parametrize("path", PATHS)
def test_each_interim_head_is_bounded_by_the_head_size_limit_not_the_run_of_them(
    relayed: Relayed,  # noqa: F811
    path: str,
) -> None:
    big = b"HTTP/1.1 103 Early Hints\r\nLink: <" + b"a" * (40 * 1024) + b">; rel=preload\r\n\r\n"
    with session(relayed, path) as sock:
        # Three heads of 40 KiB (120 KiB in all, each under the 64 KiB limit): all go on.
        relayed.upstream.replies.append(Reply(big * 3 + FINAL))
        sock.sendall(relayed.admitted("/many-links"))
        for _ in range(3):
            assert read_response(sock).raw == big
        assert read_response(sock).status == 200
    with session(relayed, path) as sock:
        huge = b"HTTP/1.1 103 Early Hints\r\nLink: <" + b"a" * (MAX_RESPONSE_HEAD + 1) + b">\r\n\r\n"
        relayed.upstream.replies.append(Reply(huge + FINAL))
        sock.sendall(relayed.admitted("/one-huge-link"))
        assert read_response(sock).status == 502
