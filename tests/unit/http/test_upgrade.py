"""Which upgrade requests are tunnelled (http/upgrade.py): RFC 6455 §4.1 handshakes only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.message import Request
from originguard.http.request_checks import HeaderIndex
from originguard.http.upgrade import (
    check_upgrade,
    is_websocket_handshake,
    is_websocket_switch,
    switching_head,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def handshake(**changes: tuple[bytes, ...] | None) -> HeaderIndex:
    index: HeaderIndex = {
        b"host": (b"example.test",),
        b"connection": (b"Upgrade",),
        b"upgrade": (b"websocket",),
        b"sec-websocket-key": (KEY,),
        b"sec-websocket-version": (b"13",),
    }
    for name, value in changes.items():
        field = name.replace("_", "-").encode()
        if value is None:
            index.pop(field, None)
        else:
            index[field] = value
    return index


def test_a_websocket_handshake_is_tunnelled() -> None:
    assert check_upgrade(b"GET", handshake(), False).kind == "websocket"


def test_tokens_and_lists_are_read_case_insensitively() -> None:
    index = handshake(connection=(b"keep-alive, UPGRADE",), upgrade=(b"WebSocket",))
    assert check_upgrade(b"GET", index, False).kind == "websocket"


def test_a_request_without_upgrade_is_not_an_upgrade() -> None:
    assert check_upgrade(b"GET", handshake(upgrade=None), False).kind == "none"


def test_h2c_is_refused() -> None:
    check = check_upgrade(b"GET", handshake(upgrade=(b"h2c",)), False)
    assert check.kind == "refused"
    assert "websocket" in check.reason


def test_websocket_listed_with_another_protocol_is_refused() -> None:
    assert check_upgrade(b"GET", handshake(upgrade=(b"websocket, h2c",)), False).kind == "refused"
    assert check_upgrade(b"GET", handshake(upgrade=(b"websocket", b"h2c")), False).kind == "refused"


def test_other_methods_are_refused() -> None:
    for method in (b"POST", b"HEAD", b"CONNECT", b"OPTIONS"):
        assert check_upgrade(method, handshake(), False).kind == "refused"


def test_a_handshake_with_a_body_is_refused() -> None:
    assert check_upgrade(b"GET", handshake(), True).kind == "refused"


def test_connection_must_list_upgrade() -> None:
    assert check_upgrade(b"GET", handshake(connection=(b"keep-alive",)), False).kind == "refused"
    assert check_upgrade(b"GET", handshake(connection=None), False).kind == "refused"


def test_version_must_be_13() -> None:
    for version in ((b"8",), (b"13", b"13"), (b"",)):
        assert check_upgrade(b"GET", handshake(sec_websocket_version=version), False).kind == "refused"
    assert check_upgrade(b"GET", handshake(sec_websocket_version=None), False).kind == "refused"


def test_key_must_be_16_bytes_of_base64() -> None:
    for key in (
        b"short",
        b"dGhlIHNhbXBsZSBub25jZQ",
        b"!!!!IHNhbXBsZSBub25jZQ==",
        b"dGhlIHNhbXBsZSBub25jZXh4eA==",
    ):
        assert check_upgrade(b"GET", handshake(sec_websocket_key=(key,)), False).kind == "refused"
    assert check_upgrade(b"GET", handshake(sec_websocket_key=None), False).kind == "refused"
    assert check_upgrade(b"GET", handshake(sec_websocket_key=(KEY, KEY)), False).kind == "refused"


@given(st.binary(max_size=40))
def test_any_upgrade_value_but_websocket_is_refused(value: bytes) -> None:
    check = check_upgrade(b"GET", handshake(upgrade=(value,)), False)
    expected = "websocket" if value.strip(b" \t\r\n\x0b\x0c").lower() == b"websocket" else "refused"
    assert check.kind == expected


def test_only_a_101_to_websocket_completes_a_handshake() -> None:
    assert is_websocket_switch(101, [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")])
    assert not is_websocket_switch(101, [(b"Upgrade", b"h2c")])
    assert not is_websocket_switch(101, [])
    assert not is_websocket_switch(200, [(b"Upgrade", b"websocket")])


def test_switching_head_keeps_websocket_fields_and_drops_hop_by_hop_and_cuts() -> None:
    head = switching_head(
        [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            (b"Keep-Alive", b"timeout=5"),
            (b"X-Origin-Verify", b"secret"),
        ],
        frozenset({b"x-origin-verify"}),
    )
    assert head == (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )


def parsed(version: bytes) -> Request:
    index = handshake()
    headers = [(name, value) for name, values in index.items() for value in values]
    return Request(
        b"GET", b"/ws", b"/ws", b"", version, headers, b"example.test", True, "", 0, "https", 443, None
    )


def test_only_http_1_1_requests_are_handshakes() -> None:
    assert is_websocket_handshake(parsed(b"1.1"))
    assert not is_websocket_handshake(parsed(b"1.0"))
