"""URL-valued config fields: each checked at load for the exact shape its consumer needs.

A value like `127.0.0.1:6379` where a URL belongs passed as a plain string before, and every component
then died with a traceback at start-up (in a restart loop under `up`). The types here refuse it in the
config model, so `check`, start-up and SIGHUP reload all give the same `FILE: key.path: problem`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import SplitResult, urlsplit

from pydantic import BeforeValidator

from originguard.config.values import TypeName

REDIS_SHAPE: Final = "redis://[:PASSWORD@]HOST:PORT[/DB] (or rediss://... for TLS, unix:///PATH.sock)"
ROUTER_SHAPE: Final = (
    "http://HOST:PORT[/PATH], the DNS router's admin address (e.g. http://127.0.0.1:5380/rtt)"
)


def parse_redis_url(value: Any) -> str:
    """A URL redis-py's `Redis.from_url` accepts, with a host, a port in range and an integer DB."""
    parts = _split(value, REDIS_SHAPE)
    shown = _shown(parts)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"{shown!r} is not a Redis URL; expected {REDIS_SHAPE}")
    if parts.scheme == "unix":
        if not parts.path.startswith("/"):
            raise ValueError(
                f"{shown!r}: a unix:// Redis URL needs an absolute socket path (unix:///PATH.sock)"
            )
    else:
        _host_and_port(parts, shown, REDIS_SHAPE)
        db = parts.path.removeprefix("/")
        if db and not db.isdigit():
            raise ValueError(f"{shown!r}: the path is the database number (/0, /1, ...), not {parts.path!r}")
    from redis.connection import parse_url  # the client's own reading of the query options

    try:
        parse_url(value)  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    except ValueError as exc:
        raise ValueError(f"{shown!r}: {exc}") from None
    return str(value)


def parse_router_url(value: Any) -> str:
    """Where edges POST viewer RTTs: plain HTTP (the router's admin port), a host and a port in range."""
    parts = _split(value, ROUTER_SHAPE)
    shown = _shown(parts)
    if parts.scheme != "http":
        raise ValueError(f"{shown!r} is not an http:// URL; expected {ROUTER_SHAPE}")
    _host_and_port(parts, shown, ROUTER_SHAPE)
    if parts.query or parts.fragment:
        raise ValueError(f"{shown!r}: no query or fragment; expected {ROUTER_SHAPE}")
    return str(value)


def _split(value: Any, shape: str) -> SplitResult:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a URL string: {shape}")
    if any(c.isspace() for c in value):
        raise ValueError(f"a URL cannot contain spaces; expected {shape}")
    return urlsplit(value)


def _host_and_port(parts: SplitResult, shown: str, shape: str) -> None:
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{shown!r}: the port must be a number in 1-65535; expected {shape}") from None
    if not parts.hostname:
        raise ValueError(f"{shown!r} names no host; expected {shape}")
    if port == 0:
        raise ValueError(f"{shown!r}: port 0 cannot be connected to; expected {shape}")


def _shown(parts: SplitResult) -> str:
    """The URL as an error may print it: a password in it (redis://:PASSWORD@host) becomes ***."""
    if "@" not in parts.netloc:
        return parts.geturl()
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


RedisUrl = Annotated[str, BeforeValidator(parse_redis_url), TypeName("Redis URL")]
RouterUrl = Annotated[str, BeforeValidator(parse_router_url), TypeName("http:// URL")]
