"""Config models of the CDN edges and the distribution they serve (CloudFront-like names)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from originguard.config.gate import HeaderValue, HttpLimits, TlsFiles
from originguard.config.urls import RouterUrl
from originguard.config.values import (
    Duration,
    HostPortField,
    Model,
    SecretRef,
    UrlPath,
)


class ShieldConfig(Model):
    """Fetch from another edge (a regional tier) instead of the origin: one fill serves many edges."""

    edge: str = Field(description="the name of another edge with `https:`; this edge fetches from it")
    server_name: str | None = Field(
        default=None, description="TLS name of the shield edge (default: the first origin's `server_name`)"
    )
    ca_bundle: str | None = Field(
        default=None, description="CA file that signs the shield edge (default: the first origin's)"
    )


class SniCertificate(Model):
    """An extra certificate, chosen when the viewer's SNI name matches one of `names` (`*.` allowed)."""

    names: list[str] = Field(min_length=1, description="SNI names it serves; `*.example.test` allowed")
    certificate: str = Field(description="PEM certificate chain file")
    key: str = Field(description="PEM private key file")


class EdgeNode(Model):
    """One edge location: its name, region and listening addresses."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="unique; `originguard edge --name`"
    )
    region: str = Field(description="region name the DNS router's latency policy and tables use")
    http: HostPortField | None = Field(
        default=None, description="viewer HTTP listener (redirects under `redirect-to-https`)"
    )
    https: HostPortField | None = Field(default=None, description="viewer HTTPS listener; needs `tls`")
    tls: TlsFiles | None = Field(default=None, description="the default viewer certificate")
    certificates: list[SniCertificate] = Field(
        default=[], description="more certificates, chosen by the viewer's SNI name"
    )
    admin: HostPortField | None = Field(
        default=None, description="admin API: `/metrics`, `/healthz`, `POST /invalidations`, `GET /waf`"
    )
    country: str | None = Field(
        default=None, description="ISO 3166 country of the edge, for the DNS router's geo policy"
    )
    workers: int | Literal["auto"] = Field(
        default=1,
        description="processes sharing the ports (SO_REUSEPORT); worker i's admin is the admin port + i",
    )
    shield: ShieldConfig | None = Field(default=None, description="fetch through another edge")
    underscores_in_headers: bool = Field(
        default=False,
        description="viewer listeners pass on request fields whose names hold `_` (dropped by default, "
        "as nginx does); an underscore spelling of an origin custom header's name is dropped either way",
    )


ViewerProtocolPolicy = Literal["allow-all", "redirect-to-https", "https-only"]
OriginProtocolPolicy = Literal["https-only", "match-viewer", "http-only"]


class Origin(Model):
    """An origin the edges fetch from (the gate, in the default deployment)."""

    id: str = Field(description="name behaviours and origin groups refer to")
    address: HostPortField = Field(description="where the origin listens")
    protocol_policy: OriginProtocolPolicy = Field(
        default="https-only", description="`https-only`, `match-viewer` or `http-only` (`check` fails it)"
    )
    http_port: int | None = Field(
        default=None, ge=1, le=65535, description="port for plain HTTP fetches (default: the address port)"
    )
    server_name: str | None = Field(
        default=None, description="TLS name verified on the origin certificate (and sent as SNI)"
    )
    ca_bundle: str | None = Field(
        default=None, description="CA file the origin certificate is verified against (default: system)"
    )
    custom_headers: dict[str, HeaderValue] = Field(
        default={},
        description="added to every origin request, overwriting viewer copies; never sent to viewers or "
        "logged",
    )
    host_header: Literal["forward", "origin"] = Field(
        default="forward", description="send the viewer's Host, or the origin's `server_name`/address"
    )
    connect_timeout: Duration = Field(default=10.0, description="TCP and TLS connect timeout")
    read_timeout: Duration = Field(default=30.0, description="longest wait for response bytes")
    keepalive_timeout: Duration = Field(
        default=5.0, description="idle time before a pooled connection closes"
    )
    connection_attempts: int = Field(default=3, ge=1, le=3, description="connect tries before giving up")


class OriginGroup(Model):
    """Failover: the secondary answers when the primary refuses connections or returns these statuses."""

    id: str = Field(description="name behaviours refer to, like an origin id")
    members: list[str] = Field(min_length=2, max_length=2, description="[primary, secondary] origin ids")
    failover_statuses: list[int] = Field(
        default=[500, 502, 503, 504], description="primary statuses that make the secondary answer"
    )


class Ttl(Model):
    """Bounds on a response's freshness lifetime, in seconds."""

    min: int = Field(default=0, ge=0, description="lower bound on the freshness the origin asks for")
    default: int = Field(default=86400, ge=0, description="freshness when the origin gives none")
    max: int = Field(default=31536000, ge=0, description="upper bound on the freshness the origin asks for")


class CacheKeyPolicy(Model):
    """What besides the host and path tells cached responses apart (and is sent to the origin)."""

    query_strings: Literal["none", "all"] | list[str] = Field(
        default="all", description="`all`, `none` or the argument names that count"
    )
    headers: list[str] = Field(default=[], description="request header names that count")
    cookies: Literal["none", "all"] | list[str] = Field(
        default="none", description="`none`, `all` or the cookie names that count"
    )


class Compression(Model):
    """How behaviours with `compress: true` compress (the cloud edge's "compress objects automatically")."""

    codings: list[Literal["br", "zstd", "gzip"]] = Field(
        default=["br", "zstd", "gzip"],
        min_length=1,
        description="content codings offered, in order of preference when a viewer weighs them equally",
    )
    min_bytes: int = Field(default=1024, ge=1, description="smaller responses are sent as they are")
    max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="larger responses are sent as they are (bounds a fill's CPU)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Compression:
        if len(set(self.codings)) != len(self.codings):
            raise ValueError(f"codings lists a coding twice: {self.codings}")
        if self.min_bytes > self.max_bytes:
            raise ValueError(f"min_bytes {self.min_bytes} is above max_bytes {self.max_bytes}")
        return self


class Behavior(Model):
    """How requests whose path matches are served: origin, protocol policy, methods, caching."""

    path: str = Field(default="*", description="path pattern (`*`, `?`), case-sensitive; first match wins")
    origin: str = Field(description="an origin or origin group id")
    viewer_protocol_policy: ViewerProtocolPolicy | None = Field(
        default=None, description="overrides the distribution's policy"
    )
    allowed_methods: Literal["GET_HEAD", "GET_HEAD_OPTIONS", "ALL"] = Field(
        default="ALL", description="other methods get 403"
    )
    cache: bool = Field(default=True, description="`false` relays every request to the origin")
    ttl: Ttl = Field(default=Ttl(), description="freshness bounds")
    cache_key: CacheKeyPolicy = Field(default=CacheKeyPolicy(), description="the cache key")
    compress: bool = Field(
        default=False,
        description="compress text-like responses for viewers that accept it (`compression` says how); "
        "each coding is cached apart, compressed once at fill",
    )
    websocket: bool = Field(
        default=True,
        description="tunnel WebSocket handshakes (RFC 6455) to the origin; `false` answers them 403. "
        "A tunnel is never cached",
    )
    websocket_idle_timeout: Duration = Field(
        default=600.0, gt=0, description="a WebSocket tunnel with no byte either way for this long is closed"
    )

    @model_validator(mode="after")
    def _compress_needs_cache(self) -> Behavior:
        if self.compress and not self.cache:
            raise ValueError("compress needs cache: true (a response is compressed once, when it is stored)")
        return self


class DistributionConfig(Model):
    """What every edge serves (a CloudFront-like distribution)."""

    viewer_protocol_policy: ViewerProtocolPolicy = Field(
        default="redirect-to-https",
        description="`allow-all`, `redirect-to-https` (301) or `https-only` (403)",
    )
    web_acl: str | None = Field(default=None, description="name of a web ACL under `waf.web_acls`")
    origins: list[Origin] = Field(min_length=1, description="where responses come from")
    origin_groups: list[OriginGroup] = Field(default=[], description="failover pairs of origins")
    default_behavior: Behavior = Field(description="serves paths no behaviour matches")
    behaviors: list[Behavior] = Field(default=[], description="by path pattern, in order")
    cache_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=0,
        description="memory bound of the cache (bodies + headers + ~255 B per entry)",
    )
    cache_max_object_bytes: int = Field(
        default=16 * 1024 * 1024, ge=0, description="larger responses are streamed through, not stored"
    )
    compression: Compression = Field(
        default=Compression(), description="codings and size bounds of behaviours with `compress: true`"
    )
    limits: HttpLimits = Field(default=HttpLimits(), description="viewer-side HTTP limits")
    access_log: str | None = Field(
        default="-", description="JSON lines: a path (`{edge}` becomes the edge name), `-` (stdout) or null"
    )
    # RFC 9213: this field (then CDN-Cache-Control) overrides Cache-Control for the edge only.
    cache_control_field: str = Field(
        default="Originguard-Cache-Control",
        description="RFC 9213 field for this CDN (then `CDN-Cache-Control`, then `Cache-Control`); "
        "never forwarded",
    )
    admin_token: SecretRef | None = Field(
        default=None, description="token of the protected admin routes; without it they answer 401"
    )
    health_path: UrlPath = Field(
        default="/healthz", description="answered by the edge itself (DNS health checks)"
    )
    rtt_report_url: RouterUrl | None = Field(
        default=None, description="the DNS router's `/rtt`: edges report viewer TCP round trips there"
    )
