"""Config models of the DNS router: zone, records with routing policies, latency and geo tables.

Names follow the cloud DNS products (Route 53 routing policies): simple, weighted, failover, geo,
latency. `check_dns_references` cross-checks records against `edges:`; `Config` should call it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Literal

import dns.name
from pydantic import Field, field_validator, model_validator

from originguard.config.edge import EdgeNode
from originguard.config.values import Duration, HostPortField, Model, UrlPath, parse_cidr

PolicyName = Literal["simple", "weighted", "failover", "geo", "latency"]

# A record's default TTL, and the lower one of latency records: resolvers must come back soon
# enough for a change of the nearest healthy edge to take effect (Route 53 suggests 60 s or less).
DEFAULT_TTL = 60
DEFAULT_LATENCY_TTL = 20

_COUNTRY = re.compile(r"[A-Z]{2}|\*")


class DnsHealthCheck(Model):
    """How the router checks each target of a record: HTTPS GET /healthz by default, or TCP connect."""

    protocol: Literal["https", "http", "tcp"] = Field(
        default="https", description="GET the path, or TCP connect"
    )
    path: UrlPath = Field(default="/healthz", description="path requested")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="port checked (default: the edge's listener port)"
    )
    interval: Duration = Field(default=10.0, description="time between checks")
    timeout: Duration = Field(default=2.0, description="a check slower than this fails")
    healthy: int = Field(default=2, ge=1, le=10, description="passes in a row to become healthy")
    unhealthy: int = Field(default=2, ge=1, le=10, description="failures in a row to become unhealthy")
    ca_bundle: str | None = Field(default=None, description="CA file that signs the targets (https)")
    server_name: str | None = Field(default=None, description="TLS name verified on the targets (https)")

    @model_validator(mode="after")
    def _sane(self) -> DnsHealthCheck:
        if not self.path.startswith("/"):
            raise ValueError(f"path {self.path!r} must start with '/'")
        if self.interval <= 0 or self.timeout <= 0:
            raise ValueError("interval and timeout must be above 0")
        return self


class DnsTarget(Model):
    """`{edge: NAME}` (answered with the edge's address) or `{address: IP}`, with policy settings."""

    edge: str | None = Field(default=None, description="an edge name; answered with its listener's IP")
    address: str | None = Field(default=None, description="an IPv4 or IPv6 address to answer with")
    weight: int = Field(default=1, ge=0, le=255, description="`weighted`: relative share of answers")
    role: Literal["primary", "secondary"] | None = Field(
        default=None, description="`failover`: primary while healthy, else secondary"
    )
    countries: list[str] = Field(
        default=[], description="`geo`: ISO 3166 codes this target serves; `*` is the default location"
    )
    region: str | None = Field(default=None, description="`latency`: region (default: the edge's)")

    @field_validator("address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None

    @field_validator("countries")
    @classmethod
    def _iso(cls, values: list[str]) -> list[str]:
        upper = [value.strip().upper() for value in values]
        for value in upper:
            if not _COUNTRY.fullmatch(value):
                raise ValueError(f"{value!r} is not an ISO 3166 two-letter country code or '*' (default)")
        return upper

    @model_validator(mode="after")
    def _edge_or_address(self) -> DnsTarget:
        if self.edge is None and self.address is None:
            raise ValueError("give edge: NAME or address: IP (or both: the address answered for the edge)")
        return self


class DnsRecord(Model):
    """One name in the zone: address targets under a policy, or a CNAME, or TXT strings."""

    name: str = Field(description="relative to the zone (`www`), `@` for the apex, or absolute")
    policy: PolicyName = Field(
        default="simple", description="how the targets answered are chosen (see docs/dns.md)"
    )
    health_check: DnsHealthCheck | None = Field(
        default=None, description="unhealthy targets are left out (all, when none is healthy)"
    )
    targets: list[DnsTarget] = Field(default=[], description="A/AAAA answers under the policy")
    cname: str | None = Field(default=None, description="a CNAME instead of targets")
    txt: list[str] = Field(default=[], description="TXT strings instead of targets")
    ttl: int | None = Field(
        default=None, ge=0, le=2_147_483_647, description="seconds (default: `default_ttl` or `latency_ttl`)"
    )

    @field_validator("name", "cname")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is None or value == "@":
            return value
        try:
            dns.name.from_text(value)
        except Exception as exc:  # dnspython raises one class per label problem
            raise ValueError(f"{value!r} is not a valid DNS name: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> DnsRecord:
        kinds = [k for k, v in (("targets", self.targets), ("cname", self.cname), ("txt", self.txt)) if v]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of targets, cname or txt (got {kinds or 'none'})")
        if self.policy != "simple" and not self.targets:
            raise ValueError(f"policy {self.policy!r} needs targets")
        if self.policy == "failover" and sum(t.role == "primary" for t in self.targets) > 1:
            raise ValueError("failover: at most one target has role: primary")
        if self.policy == "weighted" and not any(t.weight for t in self.targets):
            raise ValueError("weighted: at least one target needs a weight above 0")
        if self.policy == "geo" and sum("*" in t.countries for t in self.targets) != 1:
            raise ValueError("geo: exactly one target needs countries: ['*'] (the default location)")
        return self


class SoaSettings(Model):
    """The apex SOA (RFC 1035 §3.3.13); `minimum` is the negative-caching TTL (RFC 2308 §4)."""

    mname: str | None = Field(default=None, description="primary name server (default: the first NS)")
    rname: str | None = Field(
        default=None,
        description="responsible mailbox as a name, `hostmaster.example.test.` (default: `hostmaster.ZONE`)",
    )
    serial: int = Field(default=1, ge=0, le=4_294_967_295, description="zone serial")
    refresh: int = Field(default=3600, ge=0, description="seconds secondaries wait before a refresh")
    retry: int = Field(default=600, ge=0, description="seconds before a failed refresh is retried")
    expire: int = Field(default=604800, ge=0, description="seconds a secondary keeps answering unrefreshed")
    minimum: int = Field(default=60, ge=0, description="negative-caching TTL of NXDOMAIN/NODATA (RFC 2308)")
    ttl: int = Field(default=3600, ge=0, description="TTL of the SOA and NS records")

    @field_validator("mname", "rname")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None:
            _check_name(value)
        return value


class MeasuredRtt(Model):
    """When measured edge RTTs outrank the configured latency table."""

    min_samples: int = Field(default=10, ge=1, description="fresh samples a subnet needs before they count")
    max_age: Duration = Field(default=600.0, description="older samples are ignored")
    window: int = Field(default=64, ge=1, le=4096, description="samples kept per subnet and edge (median)")
    max_subnets: int = Field(
        default=100_000, ge=1, description="client subnets remembered; the least recent are dropped"
    )


class DnsConfig(Model):
    listen: HostPortField = Field(description="UDP and TCP address the router answers on")
    zone: str = Field(description="the zone it is authoritative for, e.g. `cdn.example.test.`")
    records: list[DnsRecord] = Field(default=[], description="names in the zone")
    admin: HostPortField | None = Field(
        default=None, description="admin HTTP: `/metrics`, `/healthz`, `POST /rtt` (edges' RTT reports)"
    )
    nameservers: list[str] = Field(default=[], description="NS names at the apex (default: `ns1.ZONE`)")
    soa: SoaSettings = Field(default=SoaSettings(), description="the apex SOA record")
    default_ttl: int = Field(default=DEFAULT_TTL, ge=0, description="TTL of answers without their own")
    latency_ttl: int = Field(
        default=DEFAULT_LATENCY_TTL, ge=0, description="TTL of `latency` answers without their own"
    )
    latency: dict[str, dict[str, float]] = Field(
        default={}, description="`{CIDR: {region: ms}}`: the configured latency table"
    )
    countries: dict[str, str] = Field(default={}, description="`{CIDR: CC}`: client country for `geo`")
    measured: MeasuredRtt = Field(
        default=MeasuredRtt(), description="when edge-measured RTTs outrank the latency table"
    )
    query_log: str | None = Field(default=None, description="JSON lines per query: a path, `-` or none")
    max_udp_payload: int = Field(
        default=1232, ge=512, le=4096, description="largest UDP answer (EDNS0); bigger ones are truncated"
    )
    tcp_idle_timeout: Duration = Field(default=10.0, description="idle DNS-over-TCP connections close")

    @field_validator("nameservers")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_name(value)
        return values

    @field_validator("zone")
    @classmethod
    def _absolute_zone(cls, zone: str) -> str:
        try:
            name = dns.name.from_text(zone)
        except Exception as exc:
            raise ValueError(f"{zone!r} is not a valid zone name: {exc}") from None
        return name.to_text().lower()

    @field_validator("latency")
    @classmethod
    def _latency_table(cls, table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for cidr, regions in table.items():
            parse_cidr(cidr)
            for region, ms in regions.items():
                if ms < 0:
                    raise ValueError(f"latency[{cidr!r}][{region!r}]: {ms} ms cannot be negative")
        return table

    @field_validator("countries")
    @classmethod
    def _country_map(cls, table: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for cidr, country in table.items():
            parse_cidr(cidr)
            if not re.fullmatch(r"[A-Za-z]{2}", country):
                raise ValueError(f"countries[{cidr!r}]: {country!r} is not a two-letter country code")
            out[cidr] = country.upper()
        return out


def _check_name(value: str) -> None:
    try:
        dns.name.from_text(value)
    except Exception as exc:  # dnspython raises one class per label problem
        raise ValueError(f"{value!r} is not a valid DNS name: {exc}") from None


def check_dns_references(dns_config: DnsConfig, edges: Sequence[EdgeNode]) -> list[tuple[str, str]]:
    """Every (key_path, problem) where a record names an unknown edge or lacks an address/region/country."""
    by_name = {edge.name: edge for edge in edges}
    problems: list[tuple[str, str]] = []
    for ri, record in enumerate(dns_config.records):
        for ti, target in enumerate(record.targets):
            path = f"dns.records[{ri}].targets[{ti}]"
            edge = by_name.get(target.edge) if target.edge is not None else None
            if target.edge is not None and edge is None:
                problems.append(
                    (path, f"edge {target.edge!r} is not defined under edges: (defined: {sorted(by_name)})")
                )
                continue
            if target.address is None and edge is not None and edge_address(edge) is None:
                problems.append((path, f"edge {edge.name!r} listens on no IP address; give address: IP"))
            if record.policy == "latency" and target.region is None and edge is None:
                problems.append((path, "latency records need region: for address targets"))
            if record.policy == "geo" and not target.countries and (edge is None or edge.country is None):
                problems.append((path, "geo: give countries: [CC, ...] (or a country: on the edge)"))
    return problems


def edge_address(edge: EdgeNode) -> str | None:
    """The IP an edge is answered with: the host of its HTTPS (else HTTP) listener, if a usable IP."""
    for listener in (edge.https, edge.http):
        if listener is None:
            continue
        try:
            ip = ipaddress.ip_address(listener.host)
        except ValueError:
            return None
        return None if ip.is_unspecified else str(ip)
    return None
