"""Authoritative zone logic (pure): which data a question gets, and the response message built from it.

`resolve(zone, qname, qtype)` decides the rcode and the data (RFC 1034 §4.3.2); `build_response`
turns that plus a policy `Answer` into a dns.message; `encode` truncates what does not fit (TC).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from originguard.dns.records import AddressRecord, Node, Zone
from originguard.dns.select import Answer

# RFC 1034 §3.6.2 allows chains; a bound stops loops in a misconfigured zone.
MAX_CNAME_HOPS = 8
CLASSIC_UDP_LIMIT = 512  # RFC 1035 §4.2.1, and the floor for EDNS payloads (RFC 6891 §6.2.5)
TCP_LIMIT = 65535  # RFC 7766 §8: the two-octet length prefix


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a question gets before any policy runs: rcode, fixed data, and the record to select from."""

    rcode: dns.rcode.Rcode
    answer: tuple[dns.rrset.RRset, ...] = ()
    record: AddressRecord | None = None
    owner: dns.name.Name | None = None
    negative: bool = False
    label: str = "-"
    reason: str = ""


def resolve(zone: Zone, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> Resolution:
    """Answer data for (qname, qtype): follows in-zone CNAMEs; NXDOMAIN/NODATA carry the SOA."""
    if not qname.is_subdomain(zone.origin):
        return Resolution(dns.rcode.REFUSED, reason=f"not authoritative for {qname}")
    chain: list[dns.rrset.RRset] = []
    owner = qname
    for _ in range(MAX_CNAME_HOPS):
        node = zone.nodes.get(owner)
        label = node.label if node is not None else ("@" if owner == zone.origin else "-")
        if owner == zone.origin and qtype in (dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.ANY):
            apex = (
                [zone.soa, zone.ns]
                if qtype == dns.rdatatype.ANY
                else [zone.soa if qtype == dns.rdatatype.SOA else zone.ns]
            )
            return Resolution(
                dns.rcode.NOERROR, (*chain, *(_at(r, owner) for r in apex)), label="@", reason="apex"
            )
        if node is None:
            if owner == zone.origin or owner in zone.empty_nonterminals:
                return Resolution(
                    dns.rcode.NOERROR, tuple(chain), negative=True, label=label, reason="nodata"
                )
            # RFC 6604 §2.1: after a CNAME the rcode is that of the last name in the chain.
            return Resolution(dns.rcode.NXDOMAIN, tuple(chain), negative=True, reason="nxdomain")
        if node.cname is not None and qtype != dns.rdatatype.CNAME:
            chain.append(dns.rrset.from_text_list(owner, node.ttl, "IN", "CNAME", [node.cname.to_text()]))
            if not node.cname.is_subdomain(zone.origin):
                return Resolution(dns.rcode.NOERROR, tuple(chain), label=label, reason="cname out of zone")
            owner = node.cname
            continue
        return _data(zone, node, owner, qtype, chain)
    return Resolution(dns.rcode.SERVFAIL, tuple(chain), reason="cname chain too long")


def _data(zone: Zone, node: Node, owner: dns.name.Name, qtype: dns.rdatatype.RdataType,
          chain: list[dns.rrset.RRset]) -> Resolution:  # fmt: skip
    if qtype == dns.rdatatype.CNAME and node.cname is not None:
        rrset = dns.rrset.from_text_list(owner, node.ttl, "IN", "CNAME", [node.cname.to_text()])
        return Resolution(dns.rcode.NOERROR, (*chain, rrset), label=node.label, reason="cname")
    if qtype == dns.rdatatype.TXT and node.txt is not None:
        return Resolution(dns.rcode.NOERROR, (*chain, _at(node.txt, owner)), label=node.label, reason="txt")
    record = {dns.rdatatype.A: node.a, dns.rdatatype.AAAA: node.aaaa}.get(qtype)
    if record is None and qtype == dns.rdatatype.ANY:
        # RFC 8482 §4.1: a subset of the data is a complete answer to ANY.
        if node.txt is not None and node.a is None and node.aaaa is None:
            return Resolution(
                dns.rcode.NOERROR, (*chain, _at(node.txt, owner)), label=node.label, reason="any"
            )
        record = node.a or node.aaaa
    if record is not None:
        return Resolution(
            dns.rcode.NOERROR, tuple(chain), record, owner, label=node.label, reason=record.policy
        )
    return Resolution(dns.rcode.NOERROR, tuple(chain), negative=True, label=node.label, reason="nodata")


def _at(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, rrset.ttl, list(rrset))


def build_response(
    zone: Zone,
    query: dns.message.Message,
    resolution: Resolution,
    answer: Answer | None,
    ecs: dns.edns.ECSOption | None,
    payload: int,
) -> dns.message.Message:
    """The response to `query`: AA for our zone, selected addresses, SOA for negatives, ECS echoed."""
    response = dns.message.make_response(query, our_payload=payload)
    response.set_rcode(resolution.rcode)
    if resolution.rcode != dns.rcode.REFUSED:
        response.flags |= dns.flags.AA
    response.answer.extend(resolution.answer)
    if answer is not None and resolution.record is not None and resolution.owner is not None:
        rdtype = "AAAA" if ":" in answer.targets[0].address else "A"
        addresses = [t.address for t in answer.targets]
        response.answer.append(
            dns.rrset.from_text_list(resolution.owner, resolution.record.ttl, "IN", rdtype, addresses)
        )
    if resolution.negative:
        # RFC 2308 §3: negative answers carry the SOA, with the negative-caching TTL.
        response.authority.append(dns.rrset.from_rdata_list(zone.origin, zone.negative_ttl, list(zone.soa)))
    if ecs is not None and query.edns >= 0:
        # RFC 7871 §7.2.1: echo family, source prefix and address; SCOPE says how far the answer holds.
        scope = answer.scope if answer is not None else 0
        echo = dns.edns.ECSOption(ecs.address, ecs.srclen, scope)
        response.use_edns(0, 0, payload, options=[echo])
    return response


def error_response(query: dns.message.Message, rcode: dns.rcode.Rcode, payload: int) -> dns.message.Message:
    """A response that only carries an rcode (NOTIMP, FORMERR, BADVERS, REFUSED)."""
    response = dns.message.make_response(query, our_payload=payload)
    if rcode == dns.rcode.BADVERS and query.edns < 0:
        response.use_edns(0, 0, payload)
    response.set_rcode(rcode)
    return response


def formerr_for(wire: bytes) -> bytes | None:
    """FORMERR for a packet dnspython cannot parse: its ID and opcode, no sections (RFC 1035 §4.1.1)."""
    if len(wire) < 12 or wire[2] & 0x80:
        return None  # no header, or a response: answering could start a loop between servers
    flags = 0x80 | (wire[2] & 0x79)  # QR, and the query's opcode and RD
    return struct.pack("!2sBBHHHH", wire[:2], flags, dns.rcode.FORMERR, 0, 0, 0, 0)


def encode(response: dns.message.Message, max_size: int) -> bytes:
    """Wire form within `max_size`; if the answer does not fit, drop sections and set TC (RFC 2181 §9)."""
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        for section in _sections(response):
            del section[:]
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


def _sections(response: dns.message.Message) -> Sequence[list[dns.rrset.RRset]]:
    return (response.answer, response.authority, response.additional)


def udp_limit(query: dns.message.Message, server_max: int) -> int:
    """The largest UDP response: the client's EDNS payload (at least 512) capped by ours (RFC 6891 §6.2.5)."""
    if query.edns < 0:
        return CLASSIC_UDP_LIMIT
    return max(CLASSIC_UDP_LIMIT, min(query.payload, server_max))
