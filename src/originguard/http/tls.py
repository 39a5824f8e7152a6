"""TLS contexts: TLS 1.2+ only, modern AEAD ciphers; ALPN http/1.1, h2 first where a listener speaks it."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Final

from originguard.errors import ConfigError

# ECDHE with AEAD only for TLS 1.2; TLS 1.3 suites are fixed by OpenSSL and all modern.
MODERN_CIPHERS: Final = "ECDHE+AESGCM:ECDHE+CHACHA20"


class DirectSSLObject(ssl.SSLObject):
    """An `ssl.SSLObject` whose `read`, `write` and `pending` are the C methods themselves.

    The viewer-side layer (http/tls_server.py) and uvloop's client-side TLS transport bind them
    once per connection and call them for every record; `ssl.SSLObject`'s own only forward to the
    C object, a Python frame per call (about 2,000 instructions per proxied request). Same
    arguments, results and exceptions."""

    @classmethod
    def _create(cls, *args: Any, **kwargs: Any) -> DirectSSLObject:
        made: DirectSSLObject = super()._create(*args, **kwargs)  # type: ignore[misc]  # private API
        inner = made._sslobj  # type: ignore[attr-defined]  # the _ssl._SSLSocket it wraps
        made.__dict__.update(read=inner.read, write=inner.write, pending=inner.pending)
        return made


def _direct(context: ssl.SSLContext) -> ssl.SSLContext:
    """`context`, making DirectSSLObjects (what `wrap_bio`, which uvloop calls, makes)."""
    context.sslobject_class = DirectSSLObject
    return context


def server_context(
    certificate: Path, key: Path, *, source: str = "", key_path: str = "", http2: bool = False
) -> ssl.SSLContext:
    """A server context for a listener; a missing or bad file is a ConfigError naming it.

    `http2`: offer h2 before http/1.1 (the listener's server must be made with `h2=`). Our ciphers
    are ECDHE with AEAD only, which RFC 9113 §9.2.2 requires of TLS 1.2 under HTTP/2."""
    context = _direct(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(MODERN_CIPHERS)
    context.set_alpn_protocols(["h2", "http/1.1"] if http2 else ["http/1.1"])
    # No client-initiated renegotiation (as nginx): a handshake inside the stream is a DoS lever
    # and http/tls_server.py writes records without expecting one.
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            source, key_path, f"cannot load certificate {certificate} / key {key}: {exc}"
        ) from None
    return context


def client_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """A verifying client context: the configured CA bundle, else the system store."""
    context = _direct(ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


def add_sni_contexts(default: ssl.SSLContext, by_name: dict[str, ssl.SSLContext]) -> None:
    """Serve the context whose name matches the ClientHello's SNI (exact, then `*.` one label deep)."""
    if not by_name:
        return
    names = {name.lower(): context for name, context in by_name.items()}

    def choose(connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
        if server_name is None:
            return  # no SNI: the default certificate
        wanted = server_name.lower()
        context = names.get(wanted) or names.get("*." + wanted.partition(".")[2])
        if context is not None:
            connection.context = context

    default.sni_callback = choose
