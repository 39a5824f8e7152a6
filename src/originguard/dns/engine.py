"""Bytes in, bytes out: one DNS query answered from the zone (pure; `now`, health and randomness given).

dnspython costs hundreds of µs to parse and build a message, so the engine plans each distinct query
once: the bytes after the ID (question, flags, EDNS, ECS) key a plan; a plan holds either the finished
response or the record to select from plus the responses already encoded per selection. A query then
costs two dict lookups and one `select` (measured: >20k answers/s per core, see bench/dns_bench.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import dns.edns
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from originguard.dns import zone as zones
from originguard.dns.records import Zone
from originguard.dns.rtt import LatencyFigures, RttStore
from originguard.dns.select import Answer, ClientNetwork, Random, select

Transport = Literal["udp", "tcp"]

PLAN_CACHE_SIZE = 8192
CLIENT_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class Outcome:
    """One answered query: the response bytes and what the log and metrics say about it."""

    wire: bytes
    qname: str
    qtype: str
    record: str
    policy: str
    rcode: str
    reason: str
    decision: str = ""
    client: str = ""
    fail_open: bool = False


@dataclass(slots=True)
class _Plan:
    tail: bytes | None  # the finished response after its ID, when no policy runs
    outcome: Outcome
    query: dns.message.Message | None = None
    resolution: zones.Resolution | None = None
    ecs: dns.edns.ECSOption | None = None
    client: ClientNetwork | None = None
    max_size: int = zones.CLASSIC_UDP_LIMIT
    responses: dict[tuple[object, int], bytes] = field(default_factory=dict)


class QueryEngine:
    """Answers queries for one compiled zone; holds only caches derived from the zone."""

    def __init__(self, zone: Zone, rtt: RttStore, rand: Random, *, max_udp_payload: int = 1232) -> None:
        self.zone = zone
        self.rtt = rtt
        self.rand = rand
        self.max_udp_payload = max_udp_payload
        self._plans: dict[Transport, dict[bytes, _Plan]] = {"udp": {}, "tcp": {}}
        self._clients: dict[str, ClientNetwork] = {}

    def answer(self, wire: bytes, source: str, transport: Transport, now: float,
               health: Mapping[str, bool]) -> Outcome | None:  # fmt: skip
        """The response to one query, or None when the packet must be dropped (no header, a response)."""
        plans = self._plans[transport]
        key = wire[2:]
        plan = plans.get(key)
        if plan is None:
            plan = self._plan(wire, transport)
            if plan is None:
                formerr = zones.formerr_for(wire)
                if formerr is None:
                    return None
                return Outcome(formerr, "", "", "-", "-", "FORMERR", "malformed packet", client=source)
            if len(plans) >= PLAN_CACHE_SIZE:
                plans.clear()  # a flood of distinct names must not grow memory; re-planning is the cost
            plans[key] = plan
        if plan.tail is not None:
            fixed = plan.outcome  # built field by field: dataclasses.replace costs µs per query
            return Outcome(wire[:2] + plan.tail, fixed.qname, fixed.qtype, fixed.record, fixed.policy,
                           fixed.rcode, fixed.reason, client=source)  # fmt: skip
        assert plan.resolution is not None and plan.resolution.record is not None
        record = plan.resolution.record
        client = plan.client or self._client(source)
        if record.policy == "geo":
            found = self.zone.countries.lookup(client.address)
            client = replace(client, country=found[0] if found else None)
        chosen = select(record, client, health, LatencyFigures(self.zone.latency, self.rtt, now), self.rand)
        tail = plan.responses.get((chosen.targets, chosen.scope))
        if tail is None:
            tail = self._encode(plan, chosen)
        return Outcome(
            wire[:2] + tail, plan.outcome.qname, plan.outcome.qtype, record.name, record.policy, "NOERROR",
            chosen.reason, chosen.decision, client.text, chosen.fail_open,
        )  # fmt: skip

    def _encode(self, plan: _Plan, chosen: Answer) -> bytes:
        assert plan.query is not None and plan.resolution is not None
        response = zones.build_response(self.zone, plan.query, plan.resolution, chosen, plan.ecs,
                                        self.max_udp_payload)  # fmt: skip
        tail = zones.encode(response, plan.max_size)[2:]
        if len(plan.responses) < 256:  # combinations of targets are few; cap them all the same
            plan.responses[(chosen.targets, chosen.scope)] = tail
        return tail

    def _client(self, source: str) -> ClientNetwork:
        client = self._clients.get(source)
        if client is None:
            address = ipaddress.ip_address(source)
            client = ClientNetwork(address, address.max_prefixlen)
            if len(self._clients) >= CLIENT_CACHE_SIZE:
                self._clients.clear()
            self._clients[source] = client
        return client

    def _plan(self, wire: bytes, transport: Transport) -> _Plan | None:
        if len(wire) < 12 or wire[2] & 0x80:
            return None
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # dnspython raises many types on hostile input; all of them mean FORMERR
            return None
        payload = self.max_udp_payload
        max_size = zones.udp_limit(query, payload) if transport == "udp" else zones.TCP_LIMIT
        if query.opcode() != dns.opcode.QUERY:
            return self._static(query, zones.error_response(query, dns.rcode.NOTIMP, payload), max_size,
                                "opcode not implemented (RFC 1035 §4.1.1)")  # fmt: skip
        if len(query.question) != 1:
            return self._static(query, zones.error_response(query, dns.rcode.FORMERR, payload), max_size,
                                "QDCOUNT must be 1 (RFC 9619)")  # fmt: skip
        if query.edns > 0:
            return self._static(query, zones.error_response(query, dns.rcode.BADVERS, payload), max_size,
                                f"EDNS version {query.edns} (RFC 6891 §6.1.3)")  # fmt: skip
        try:
            ecs, client = _client_subnet(query)
        except ValueError as exc:
            return self._static(query, zones.error_response(query, dns.rcode.FORMERR, payload), max_size,
                                f"bad client subnet: {exc} (RFC 7871 §7.1.1)")  # fmt: skip
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            resolution = zones.Resolution(dns.rcode.REFUSED, reason="class is not IN")
        else:
            resolution = zones.resolve(self.zone, question.name, question.rdtype)
        if resolution.record is not None:
            outcome = _outcome(query, resolution)
            return _Plan(None, outcome, query, resolution, ecs, client, max_size)
        response = zones.build_response(self.zone, query, resolution, None, ecs, payload)
        return _Plan(zones.encode(response, max_size)[2:], _outcome(query, resolution))

    def _static(self, query: dns.message.Message, response: dns.message.Message, max_size: int,
                reason: str) -> _Plan:  # fmt: skip
        outcome = _outcome(query, zones.Resolution(response.rcode(), reason=reason))
        return _Plan(zones.encode(response, max_size)[2:], outcome)


def _client_subnet(query: dns.message.Message) -> tuple[dns.edns.ECSOption | None, ClientNetwork | None]:
    options = [o for o in query.options if isinstance(o, dns.edns.ECSOption)]
    if not options:
        return None, None
    if len(options) > 1:
        raise ValueError("more than one ECS option")
    ecs = options[0]
    if ecs.scopelen != 0:
        raise ValueError("SCOPE PREFIX-LENGTH must be 0 in queries")
    network = ipaddress.ip_network(f"{ecs.address}/{ecs.srclen}", strict=True)
    if ecs.srclen == 0:
        return ecs, None  # RFC 7871 §7.1.2: the client opted out; decide by the resolver's address
    return ecs, ClientNetwork(network.network_address, ecs.srclen, from_ecs=True)


def _outcome(query: dns.message.Message, resolution: zones.Resolution) -> Outcome:
    question = query.question[0] if query.question else None
    record = resolution.record
    return Outcome(
        wire=b"",
        qname=question.name.to_text() if question is not None else "",
        qtype=dns.rdatatype.to_text(question.rdtype) if question is not None else "",
        record=resolution.label,
        policy=record.policy if record is not None else "-",
        rcode=dns.rcode.to_text(resolution.rcode),
        reason=resolution.reason,
    )
