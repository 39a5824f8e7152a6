"""Single live exchanges, each bounded by a timeout: an HTTP request, a TCP connect, a TLS handshake.

Every function returns an observation and never raises for network trouble: a refused connection,
a reset or a failed handshake is itself what `verify` reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from pathlib import Path

from originguard.audit.verify_http import MAX_RESPONSE_BYTES, parse_response, response_complete
from originguard.audit.verify_targets import HttpExchange, LegacyTls, PortState, TlsHandshake
from originguard.config.values import HostPort


def attacker_context() -> ssl.SSLContext:
    """What `curl -k` does: no certificate check, so a direct probe reaches even a misconfigured gate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def verifying_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Chain and name checked against the configured CA (else the system store), TLS 1.2+ only."""
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def legacy_context() -> ssl.SSLContext:
    """Offers only TLS 1.0/1.1; security level 0 so that OpenSSL 3 will offer them at all."""
    context = attacker_context()
    with warnings.catch_warnings():  # the old versions are deprecated: offering them is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


async def http_exchange(
    address: HostPort,
    request: bytes,
    url: str,
    *,
    tls: ssl.SSLContext | None,
    server_name: str | None,
    timeout: float,
) -> HttpExchange:
    """Send `request`, read one response until it is complete, the peer closes, or the timeout."""
    raw = b""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                address.host, address.port, ssl=tls, server_hostname=server_name if tls else None
            )
            try:
                writer.write(request)
                await writer.drain()
                while len(raw) < MAX_RESPONSE_BYTES and not response_complete(raw):
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    raw += chunk
            finally:
                await _close(writer)
    except TimeoutError:
        return _exchange(url, raw, f"no complete response within {timeout:g}s")
    except ssl.SSLCertVerificationError as exc:
        return _exchange(url, raw, f"tls: certificate not valid for {server_name}: {exc.verify_message}")
    except ssl.SSLError as exc:
        return _exchange(url, raw, f"tls: {exc.reason or exc}")
    except (ConnectionError, OSError) as exc:
        return _exchange(url, raw, _os_error(exc))
    return _exchange(url, raw, None)


async def probe_port(address: HostPort, timeout: float) -> PortState:
    """A bare TCP connect: refused or reset is closed, an accepted connection is open."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(address.host, address.port)
    except ConnectionRefusedError:
        return PortState(address, "refused", "connection refused")
    except ConnectionResetError:
        return PortState(address, "reset", "connection reset")
    except TimeoutError:
        return PortState(address, "filtered", f"no answer within {timeout:g}s (dropped by a firewall?)")
    except OSError as exc:
        return PortState(address, "unreachable", _os_error(exc))
    await _close(writer)
    return PortState(address, "open", "accepted a TCP connection")


async def tls_handshake(
    address: HostPort, server_name: str, context: ssl.SSLContext, timeout: float
) -> TlsHandshake:
    """One handshake; `verified` is True only when `context` checks the chain and the name."""
    checks = context.verify_mode != ssl.CERT_NONE
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                address.host, address.port, ssl=context, server_hostname=server_name
            )
    except TimeoutError:
        return TlsHandshake(address, server_name, None, False, f"no handshake within {timeout:g}s")
    except ssl.SSLCertVerificationError as exc:
        return TlsHandshake(address, server_name, None, False, f"certificate: {exc.verify_message}")
    except ssl.SSLError as exc:
        return TlsHandshake(address, server_name, None, False, f"handshake failed: {exc.reason or exc}")
    except OSError as exc:
        return TlsHandshake(address, server_name, None, False, _os_error(exc))
    tls_object = writer.get_extra_info("ssl_object")
    version = tls_object.version() if isinstance(tls_object, ssl.SSLObject) else None
    await _close(writer)
    return TlsHandshake(address, server_name, version, checks, None)


async def legacy_handshake(address: HostPort, server_name: str, timeout: float) -> LegacyTls:
    """Offer at most TLS 1.1: a handshake that completes means the listener accepts old TLS."""
    try:
        context = legacy_context()
    except ssl.SSLError as exc:
        return LegacyTls("untestable", f"this OpenSSL cannot offer TLS 1.1: {exc.reason or exc}")
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                address.host, address.port, ssl=context, server_hostname=server_name
            )
    except TimeoutError:
        return LegacyTls("refused", f"no TLS 1.1 handshake within {timeout:g}s")
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)
        if reason in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"):
            return LegacyTls("untestable", f"this OpenSSL cannot offer TLS 1.1 ({reason})")
        return LegacyTls("refused", f"handshake refused: {reason}")
    except (ConnectionResetError, ConnectionAbortedError, EOFError):
        return LegacyTls("refused", "connection closed during the handshake")
    except OSError as exc:
        return LegacyTls("unreachable", _os_error(exc))
    tls_object = writer.get_extra_info("ssl_object")
    version = tls_object.version() if isinstance(tls_object, ssl.SSLObject) else "an old version"
    await _close(writer)
    return LegacyTls("accepted", f"negotiated {version}")


def _exchange(url: str, raw: bytes, error: str | None) -> HttpExchange:
    parsed = parse_response(raw)
    if parsed is None:
        reason = error or ("the connection closed without a response" if not raw else "not an HTTP response")
        return HttpExchange(url, None, (), b"", raw, reason)
    complete = response_complete(raw)
    # A response cut off by a close still has a status; note the cut only when it matters.
    note = None if complete or error is None else f"incomplete: {error}"
    return HttpExchange(url, parsed.status, parsed.headers, parsed.body, raw, note)


def _os_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close without waiting long: a TLS close_notify the peer never answers must not stall verify."""
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
