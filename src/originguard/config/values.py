"""Small value types shared by every config section: addresses, durations, secret references."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator


class Model(BaseModel):
    """Base of every config model: frozen, and unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TypeName(NamedTuple):
    """How docs/config.md names an annotated type (pydantic ignores this metadata)."""

    text: str


class HostPort(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_host_port(value: Any) -> HostPort:
    """Parse `host:port` or `[v6]:port`; port 0 means "any free port" (tests use it)."""
    if isinstance(value, HostPort):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return HostPort(str(value[0]), int(value[1]))
    if not isinstance(value, str):
        raise ValueError("must be a string like 127.0.0.1:9443")
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", value.strip())
    if not match:
        raise ValueError(f"{value!r} is not host:port (for example 127.0.0.1:9443 or [::1]:9443)")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    return HostPort(host, port)


HostPortField = Annotated[
    HostPort, BeforeValidator(parse_host_port), PlainSerializer(str), TypeName("host:port")
]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from `250ms`, `2s`, `5m`, `1h`, `1d` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 2s, 5m or 250ms")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (use 250ms, 2s, 5m, 1h or a number of seconds)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration), TypeName("duration")]


def check_url_path(value: Any) -> str:
    """A path a server is asked for (`/healthz`): origin-form per RFC 9112 §3.2.1, so it starts with /."""
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError(
            f"{value!r} is not a request path; it starts with / and has no spaces (e.g. /healthz)"
        )
    return value


UrlPath = Annotated[str, BeforeValidator(check_url_path), TypeName("path")]


def parse_cidr(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR (or a bare address as a /32 or /128); host bits set are an error, as in cloud consoles."""
    if not isinstance(value, str):
        raise ValueError("must be a CIDR string like 10.0.0.0/8 or 2001:db8::/32")
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR: {exc}") from None


Cidr = Annotated[
    ipaddress.IPv4Network | ipaddress.IPv6Network,
    BeforeValidator(parse_cidr),
    PlainSerializer(str),
    TypeName("CIDR"),
]


class SecretRef(Model):
    """`{secret: NAME}`: a value taken from the `secrets:` section, never written in the config."""

    secret: str = Field(description="the name of an entry under `secrets:`")


class SecretSource(Model):
    """Where a named secret lives: `{file: PATH}` or `{env: VARIABLE}`."""

    file: str | None = Field(
        default=None,
        description="a file holding one value per line (first = current, all = accepted); mode 0600 or "
        "stricter, else refused",
    )
    env: str | None = Field(
        default=None, description="an environment variable holding the value(s), comma or newline separated"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of file or env")
        return self
