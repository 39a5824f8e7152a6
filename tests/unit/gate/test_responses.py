"""Prebuilt gate responses and redirect placeholders (pure)."""

from __future__ import annotations

from originguard.config.gate import FixedResponseAction, RedirectAction
from originguard.gate.responses import prebuild_fixed, redirect_location


def test_fixed_response_variants_for_keep_alive_close_and_head() -> None:
    built = prebuild_fixed(FixedResponseAction(status=403, content_type="text/plain", body="Forbidden"))
    alive = built.wire(keep_alive=True, head_only=False)
    assert alive.startswith(b"HTTP/1.1 403 Forbidden\r\nDate: ") and alive.endswith(b"\r\n\r\nForbidden")
    assert b"Connection: close" not in alive
    closing = built.wire(keep_alive=False, head_only=True)
    assert b"Connection: close\r\n" in closing and closing.endswith(b"\r\n\r\n")
    assert b"Content-Length: 9\r\n" in closing


def test_redirect_placeholders_follow_the_balancer_syntax() -> None:
    to_https = RedirectAction(protocol="https", port="443")
    location = redirect_location(
        to_https, scheme="http", host=b"www.example.test:8080", port=8080, path=b"/a/b", query=b"x=1"
    )
    assert location == b"https://www.example.test/a/b?x=1"
    custom = RedirectAction(
        protocol="#{protocol}", host="new.example.test", port="#{port}", path="/moved/#{path}", query=""
    )
    moved = redirect_location(
        custom, scheme="https", host=b"old.example.test", port=9443, path=b"/x", query=b"q"
    )
    assert moved == b"https://new.example.test:9443/moved/x"
