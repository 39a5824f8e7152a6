"""Which interim (1xx) responses a proxy passes on, and the head the client gets (http/interim.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.http.headers import HOP_BY_HOP
from originguard.http.interim import MAX_INTERIM_RESPONSES, interim_action, interim_head, render_interim


@pytest.mark.parametrize(
    ("status", "seen", "action"),
    [
        (100, 1, "drop"),  # our server answers Expect: 100-continue itself
        (100, MAX_INTERIM_RESPONSES + 5, "drop"),  # a dropped head is never refused for the count
        (101, 1, "refuse"),  # never asked for: the upgrade is not ours to relay
        (102, 1, "forward"),
        (103, 1, "forward"),
        (103, MAX_INTERIM_RESPONSES, "forward"),
        (103, MAX_INTERIM_RESPONSES + 1, "refuse"),
        (104, 2, "forward"),
        (199, 1, "forward"),
    ],
)
def test_each_interim_status_is_dropped_forwarded_or_refused(status: int, seen: int, action: str) -> None:
    assert interim_action(status, seen) == action


def test_hop_by_hop_listed_and_framing_fields_are_cut_from_an_interim_head() -> None:
    raw = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload; as=script\r\nConnection: X-Hop\r\n"
        b"X-Hop: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\nX-Secret: s\r\nlink: </b.css>\r\n"
    )
    assert interim_head(raw, HOP_BY_HOP | {b"x-secret"}) == (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload; as=script\r\nlink: </b.css>\r\n\r\n"
    )


def test_an_interim_head_keeps_its_reason_gets_our_version_and_the_added_lines() -> None:
    assert interim_head(b"HTTP/1.0 102 Still Going\r\n", HOP_BY_HOP, b"Via: 1.1 e (originguard)\r\n") == (
        b"HTTP/1.1 102 Still Going\r\nVia: 1.1 e (originguard)\r\n\r\n"
    )
    assert (
        interim_head(b"HTTP/1.1 103\r\nLink: </x>\r\n", HOP_BY_HOP) == b"HTTP/1.1 103\r\nLink: </x>\r\n\r\n"
    )


_NAMES = st.sampled_from([b"Link", b"X-Hop", b"Connection", b"Keep-Alive", b"TE", b"Content-Length", b"X-Ok"])
_VALUES = st.sampled_from([b"1", b"x-hop", b"X-Ok, close", b"</a>; rel=preload", b""])


@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_no_cut_or_listed_field_survives_and_every_other_line_keeps_its_order(
    fields: list[tuple[bytes, bytes]],
) -> None:
    raw = b"HTTP/1.1 103 Early Hints\r\n" + b"".join(b"%s: %s\r\n" % field for field in fields)
    out = interim_head(raw, HOP_BY_HOP)
    assert out.startswith(b"HTTP/1.1 103 Early Hints\r\n") and out.endswith(b"\r\n\r\n")
    listed = {
        token.strip().lower()
        for name, value in fields
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    expected = [
        b"%s: %s" % (name, value)
        for name, value in fields
        if name.lower() not in HOP_BY_HOP | listed | {b"content-length", b"transfer-encoding"}
    ]
    assert out.split(b"\r\n")[1:-2] == expected


def test_render_interim_makes_an_early_hints_head_and_refuses_final_or_upgrade_statuses() -> None:
    assert render_interim(103, [(b"Link", b"</a.js>; rel=preload; as=script")]) == (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload; as=script\r\n\r\n"
    )
    for status in (101, 200, 99):
        with pytest.raises(ValueError):
            render_interim(status, [])
