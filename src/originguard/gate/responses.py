# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The gate's fixed responses and redirects, prebuilt as bytes at load (proxy.prebuilt)."""

from __future__ import annotations

from originguard.config.gate import FixedResponseAction, RedirectAction
from originguard.proxy.prebuilt import PrebuiltResponse, prebuild


def prebuild_fixed(action: FixedResponseAction) -> PrebuiltResponse:
    """A listener's fixed response (the gate's 403)."""
    return prebuild(
        action.status,
        [(b"Content-Type", action.content_type.encode()), (b"Cache-Control", b"no-store")],
        action.body.encode(),
    )


def redirect_location(
    action: RedirectAction, *, scheme: str, host: bytes, port: int, path: bytes, query: bytes
) -> bytes:
    """Fill the #{...} placeholders of a redirect (the balancer's syntax)."""
    hostname = host.decode("latin-1").rsplit(":", 1)[0] if b"]" not in host else host.decode("latin-1")
    values = {
        "#{protocol}": scheme,
        "#{host}": hostname,
        "#{port}": str(port),
        "#{path}": path.decode("latin-1").lstrip("/"),
        "#{query}": query.decode("latin-1"),
    }

    def fill(template: str) -> str:
        for key, value in values.items():
            template = template.replace(key, value)
        return template

    protocol = fill(action.protocol).lower()
    port_text = fill(action.port)
    default_port = {"https": "443", "http": "80"}.get(protocol)
    authority = fill(action.host) + ("" if port_text == default_port else f":{port_text}")
    query_text = fill(action.query)
    location = f"{protocol}://{authority}{fill(action.path)}" + (f"?{query_text}" if query_text else "")
    return location.encode("latin-1")
