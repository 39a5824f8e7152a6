"""Config models of the CDN edges and the distribution they serve (CloudFront-like names)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from originguard.config.gate import HeaderValue, HttpLimits, TlsFiles
from originguard.config.values import Duration, HostPortField, Model, SecretRef


class ShieldConfig(Model):
    """Fetch from another edge (a regional tier) instead of the origin: one fill serves many edges."""

    edge: str
    server_name: str | None = None
    ca_bundle: str | None = None


class SniCertificate(Model):
    """An extra certificate, chosen when the viewer's SNI name matches one of `names` (`*.` allowed)."""

    names: list[str] = Field(min_length=1)
    certificate: str
    key: str


class EdgeNode(Model):
    """One edge location: its name, region and listening addresses."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    region: str
    http: HostPortField | None = None
    https: HostPortField | None = None
    tls: TlsFiles | None = None
    certificates: list[SniCertificate] = []
    admin: HostPortField | None = None
    country: str | None = None
    workers: int | Literal["auto"] = Field(default=1)
    shield: ShieldConfig | None = None
    underscores_in_headers: bool = Field(
        default=False,
        description="viewer listeners pass on request fields whose names hold `_` (dropped by default, "
        "as nginx does); an underscore spelling of an origin custom header's name is dropped either way",
    )


ViewerProtocolPolicy = Literal["allow-all", "redirect-to-https", "https-only"]
OriginProtocolPolicy = Literal["https-only", "match-viewer", "http-only"]


class Origin(Model):
    id: str
    address: HostPortField
    protocol_policy: OriginProtocolPolicy = "https-only"
    http_port: int | None = None
    server_name: str | None = None
    ca_bundle: str | None = None
    custom_headers: dict[str, HeaderValue] = {}
    host_header: Literal["forward", "origin"] = "forward"
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 30.0
    keepalive_timeout: Duration = 5.0
    connection_attempts: int = Field(default=3, ge=1, le=3)


class OriginGroup(Model):
    """Failover: the secondary answers when the primary refuses connections or returns these statuses."""

    id: str
    members: list[str] = Field(min_length=2, max_length=2)
    failover_statuses: list[int] = [500, 502, 503, 504]


class Ttl(Model):
    min: int = Field(default=0, ge=0)
    default: int = Field(default=86400, ge=0)
    max: int = Field(default=31536000, ge=0)


class CacheKeyPolicy(Model):
    query_strings: Literal["none", "all"] | list[str] = "all"
    headers: list[str] = []
    cookies: Literal["none", "all"] | list[str] = "none"


class Behavior(Model):
    path: str = "*"
    origin: str
    viewer_protocol_policy: ViewerProtocolPolicy | None = None
    allowed_methods: Literal["GET_HEAD", "GET_HEAD_OPTIONS", "ALL"] = "ALL"
    cache: bool = True
    ttl: Ttl = Ttl()
    cache_key: CacheKeyPolicy = CacheKeyPolicy()


class DistributionConfig(Model):
    viewer_protocol_policy: ViewerProtocolPolicy = "redirect-to-https"
    web_acl: str | None = None
    origins: list[Origin] = Field(min_length=1)
    origin_groups: list[OriginGroup] = []
    default_behavior: Behavior
    behaviors: list[Behavior] = []
    cache_max_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    cache_max_object_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    limits: HttpLimits = HttpLimits()
    access_log: str | None = "-"
    # RFC 9213: this field (then CDN-Cache-Control) overrides Cache-Control for the edge only.
    cache_control_field: str = "Originguard-Cache-Control"
    admin_token: SecretRef | None = None
    health_path: str = "/healthz"
    rtt_report_url: str | None = None
