"""The zone compiled once from config: frozen records, targets and health-check specs (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

from originguard.config.dns import (
    DnsConfig,
    DnsHealthCheck,
    DnsRecord,
    DnsTarget,
    PolicyName,
    check_dns_references,
    edge_address,
)
from originguard.config.edge import EdgeNode
from originguard.config.values import HostPort, parse_cidr
from originguard.dns.cidr import CidrMap
from originguard.errors import ConfigError, ConfigErrors

Role = Literal["primary", "secondary"]


@dataclass(frozen=True, eq=False, slots=True)
class Target:
    """One answerable address; identity equality (each target is compiled exactly once)."""

    key: str
    address: str
    edge: str | None
    region: str | None
    weight: int
    role: Role
    countries: frozenset[str]


@dataclass(frozen=True, eq=False, slots=True)
class AddressRecord:
    """The A (or AAAA) side of a record: the targets of one address family under a policy."""

    name: str
    policy: PolicyName
    targets: tuple[Target, ...]
    ttl: int
    checked: bool


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One health check to run: a target key and where/how to probe it."""

    key: str
    host: str
    port: int
    check: DnsHealthCheck
    ca_file: str | None


@dataclass(slots=True)
class Node:
    """Everything owned by one name in the zone."""

    label: str
    a: AddressRecord | None = None
    aaaa: AddressRecord | None = None
    cname: dns.name.Name | None = None
    txt: dns.rrset.RRset | None = None
    ttl: int = 60


@dataclass(frozen=True)
class Zone:
    """An authoritative zone ready to answer: nodes by name, apex SOA/NS, client tables."""

    origin: dns.name.Name
    soa: dns.rrset.RRset
    ns: dns.rrset.RRset
    negative_ttl: int
    nodes: Mapping[dns.name.Name, Node]
    empty_nonterminals: frozenset[dns.name.Name]
    latency: CidrMap[Mapping[str, float]]
    countries: CidrMap[str]
    checks: tuple[CheckSpec, ...] = field(default=())


def compile_zone(
    config: DnsConfig,
    edges: Sequence[EdgeNode],
    source: str = "<config>",
    resolve_path: Callable[[str], object] | None = None,
) -> Zone:
    """Validate references and compile the `dns:` section; raise ConfigError naming the key path."""
    problems = check_dns_references(config, edges)
    if problems:
        raise ConfigErrors([ConfigError(source, path, problem) for path, problem in problems])
    origin = dns.name.from_text(config.zone)
    by_edge = {edge.name: edge for edge in edges}
    nodes: dict[dns.name.Name, Node] = {}
    checks: dict[tuple[str, str, int, str], CheckSpec] = {}
    for index, record in enumerate(config.records):
        owner = _owner(record.name, origin, source, index)
        node = nodes.setdefault(owner, Node(label=record.name))
        _fill(node, record, config, by_edge, source, f"dns.records[{index}]")
        if record.health_check is not None:
            for target in record.targets:
                spec = _check_spec(target, record.health_check, by_edge, resolve_path)
                if spec is not None:
                    checks.setdefault((spec.key, spec.host, spec.port, spec.check.path), spec)
    nameservers = [dns.name.from_text(ns, origin) for ns in config.nameservers] or [
        dns.name.from_text("ns1", origin)
    ]
    soa = config.soa
    mname = dns.name.from_text(soa.mname, origin) if soa.mname else nameservers[0]
    rname = dns.name.from_text(soa.rname or "hostmaster", origin)
    soa_text = f"{mname} {rname} {soa.serial} {soa.refresh} {soa.retry} {soa.expire} {soa.minimum}"
    soa_rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SOA, soa_text)
    soa_rrset = dns.rrset.from_rdata(origin, soa.ttl, soa_rdata)
    ns_rrset = dns.rrset.from_text_list(origin, soa.ttl, "IN", "NS", [n.to_text() for n in nameservers])
    return Zone(
        origin=origin,
        soa=soa_rrset,
        ns=ns_rrset,
        negative_ttl=min(soa.ttl, soa.minimum),  # RFC 2308 §5
        nodes=nodes,
        empty_nonterminals=_empty_nonterminals(nodes, origin),
        latency=CidrMap((parse_cidr(c), dict(regions)) for c, regions in config.latency.items()),
        countries=CidrMap((parse_cidr(c), country) for c, country in config.countries.items()),
        checks=tuple(checks.values()),
    )


def _owner(name: str, origin: dns.name.Name, source: str, index: int) -> dns.name.Name:
    owner = origin if name == "@" else dns.name.from_text(name, origin)
    if not owner.is_subdomain(origin):
        raise ConfigError(source, f"dns.records[{index}].name", f"{name!r} is outside the zone {origin}")
    return owner


def _fill(
    node: Node, record: DnsRecord, config: DnsConfig, edges: Mapping[str, EdgeNode], source: str, path: str
) -> None:
    default_ttl = config.latency_ttl if record.policy == "latency" else config.default_ttl
    ttl = record.ttl if record.ttl is not None else default_ttl
    taken = [kind for kind in ("a", "aaaa", "cname", "txt") if getattr(node, kind) is not None]
    if record.cname is not None:
        if taken:  # RFC 1034 §3.6.2: a CNAME owner has no other data
            raise ConfigError(source, path, f"{record.name!r} has other records; a CNAME must stand alone")
        node.cname = dns.name.from_text(record.cname, dns.name.from_text(config.zone))
    elif record.txt:
        if node.txt is not None or node.cname is not None:
            raise ConfigError(source, path, f"{record.name!r} already has TXT or CNAME data")
        rdatas = [
            dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, _txt_strings(t)) for t in record.txt
        ]
        node.txt = dns.rrset.from_rdata_list("@", ttl, rdatas)
    else:
        if node.a is not None or node.aaaa is not None or node.cname is not None:
            raise ConfigError(source, path, f"{record.name!r} already has address targets or a CNAME")
        targets = [_target(t, edges) for t in record.targets]
        v4 = [t for t in targets if ipaddress.ip_address(t.address).version == 4]
        v6 = [t for t in targets if ipaddress.ip_address(t.address).version == 6]
        checked = record.health_check is not None
        node.a = _address_record(record, v4, ttl, checked)
        node.aaaa = _address_record(record, v6, ttl, checked)
    node.ttl = ttl


def _address_record(
    record: DnsRecord, targets: list[Target], ttl: int, checked: bool
) -> AddressRecord | None:
    if not targets:
        return None
    if record.policy == "failover" and not any(t.role == "primary" for t in targets):
        # Without roles the first target is the primary (the order in the file is the intent).
        first = targets[0]
        targets[0] = Target(first.key, first.address, first.edge, first.region, first.weight, "primary",
                            first.countries)  # fmt: skip
    return AddressRecord(record.name, record.policy, tuple(targets), ttl, checked)


def _target(target: DnsTarget, edges: Mapping[str, EdgeNode]) -> Target:
    edge = edges[target.edge] if target.edge is not None else None
    address = target.address or (edge_address(edge) if edge is not None else None)
    assert address is not None  # check_dns_references rejected edges without an address
    countries = set(target.countries)
    if not countries and edge is not None and edge.country:
        countries.add(edge.country.upper())
    return Target(
        key=target.edge or address,
        address=address,
        edge=target.edge,
        region=target.region or (edge.region if edge is not None else None),
        weight=target.weight,
        role=target.role or "secondary",
        countries=frozenset(countries),
    )


def _check_spec(
    target: DnsTarget,
    check: DnsHealthCheck,
    edges: Mapping[str, EdgeNode],
    resolve_path: Callable[[str], object] | None,
) -> CheckSpec | None:
    edge = edges.get(target.edge) if target.edge is not None else None
    endpoint: HostPort | None = None
    if edge is not None:
        endpoint = edge.http if check.protocol == "http" else (edge.https or edge.http)
    default_port = {"https": 443, "http": 80, "tcp": None}[check.protocol]
    host = endpoint.host if endpoint is not None else target.address
    port = check.port or (endpoint.port if endpoint is not None else default_port)
    if host is None or port is None:
        return None  # nothing to probe: the target counts as healthy (as in Route 53 without a check)
    ca_file = check.ca_bundle
    if ca_file is not None and resolve_path is not None:
        ca_file = str(resolve_path(ca_file))
    return CheckSpec(key=target.edge or host, host=host, port=port, check=check, ca_file=ca_file)


def _txt_strings(text: str) -> list[bytes]:
    # RFC 1035 §3.3.14: a TXT character-string holds at most 255 octets; longer text is split.
    raw = text.encode()
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


def _empty_nonterminals(
    nodes: Mapping[dns.name.Name, Node], origin: dns.name.Name
) -> frozenset[dns.name.Name]:
    # RFC 8020 §2: a name with descendants exists even without data, so it is NODATA, not NXDOMAIN.
    found: set[dns.name.Name] = set()
    for name in nodes:
        parent = name.parent() if name != origin else origin
        while parent != origin and parent.is_subdomain(origin):
            if parent not in nodes:
                found.add(parent)
            parent = parent.parent()
    return frozenset(found)
