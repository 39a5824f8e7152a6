"""The demo app's early-hints page and its script, through a real gate over TLS: the 103 that
preloads `/static/app.js` arrives before the page (http/interim.py), and the script is a
cacheable, compressible asset with a strong ETag."""

from __future__ import annotations

from originguard.demo_app import APP_JS, APP_JS_ETAG, EARLY_HINTS, app_script
from tests.integration.gate.conftest import GateSetup
from tests.integration.gate.test_gate_admission import wait_healthy
from tests.support import connect, exchange, read_response


def get(setup: GateSetup, path: str, extra: str = "", version: str = "1.1") -> bytes:
    return (
        f"GET {path} HTTP/{version}\r\nHost: gate.originguard.test\r\n"
        f"X-Origin-Verify: {setup.secret}\r\n{extra}\r\n"
    ).encode()


def test_the_early_hints_page_sends_a_103_preloading_its_script_then_the_page(gate: GateSetup) -> None:
    wait_healthy(gate)
    with connect(gate.port, tls=gate.tls) as sock:
        for _ in range(2):  # once per target: round robin over both demo apps
            sock.sendall(get(gate, "/early-hints"))
            assert read_response(sock).raw == (
                b"HTTP/1.1 103 Early Hints\r\nLink: </static/app.js>; rel=preload; as=script\r\n\r\n"
            )
            page = read_response(sock)
            assert page.status == 200 and page.header("content-type") == "text/html; charset=utf-8"
            assert b'<script src="/static/app.js"' in page.body


def test_an_http10_client_gets_the_early_hints_page_without_the_103(gate: GateSetup) -> None:
    wait_healthy(gate)
    raw = exchange(gate.port, get(gate, "/early-hints", version="1.0"), tls=gate.tls)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and b"HTTP/1.1 103" not in raw


def test_the_preloaded_script_is_a_cacheable_asset_with_a_strong_etag(gate: GateSetup) -> None:
    wait_healthy(gate)
    with connect(gate.port, tls=gate.tls) as sock:
        sock.sendall(get(gate, "/static/app.js"))
        script = read_response(sock)
        assert script.status == 200 and script.body == APP_JS and len(APP_JS) > 10 * 1024
        assert script.header("cache-control") == "public, max-age=3600"
        assert script.header("etag") == APP_JS_ETAG.decode() and not APP_JS_ETAG.startswith(b"W/")
        assert script.header("content-type") == "text/javascript; charset=utf-8"
        for tags in (APP_JS_ETAG.decode(), f'"other", W/{APP_JS_ETAG.decode()}'):
            sock.sendall(get(gate, "/static/app.js", f"If-None-Match: {tags}\r\n"))
            revalidated = read_response(sock)
            assert revalidated.status == 304 and revalidated.header("etag") == APP_JS_ETAG.decode()
        sock.sendall(get(gate, "/static/app.js", 'If-None-Match: "stale"\r\n'))
        assert read_response(sock).body == APP_JS


def test_the_script_is_the_same_bytes_on_every_build_and_compresses_well() -> None:
    import zlib

    assert app_script() == APP_JS  # a stable ETag across restarts and across targets
    assert len(zlib.compress(APP_JS)) < len(APP_JS) // 4
    assert EARLY_HINTS.startswith(b"HTTP/1.1 103 Early Hints\r\n")
