"""Zone answers through the engine, bytes in and bytes out (sans-IO): rcodes, EDNS, ECS, truncation."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.dns.engine import Outcome, QueryEngine
from originguard.dns.rtt import RttStore
from tests.unit.dns.zones import FixedRandom, zone_from

LONG_TEXT = "v=" + "x" * 700

ZONE = zone_from(f"""
dns:
  listen: 127.0.0.1:5353
  zone: cdn.example.test.
  latency:
    203.0.113.0/24: {{ap-southeast-1: 12, eu-west-1: 190}}
  countries:
    198.51.100.0/24: DE
  records:
    - {{name: www, policy: latency,
       targets: [{{edge: edge-sg, address: 192.0.2.11}}, {{edge: edge-eu, address: 192.0.2.12}}]}}
    - {{name: www, txt: [hello]}}
    - {{name: v6, targets: [{{address: "2001:db8::1"}}], ttl: 300}}
    - {{name: alias, cname: www}}
    - {{name: out, cname: cdn.example.org.}}
    - {{name: big, txt: ["{LONG_TEXT}"]}}
    - {{name: a.deep, targets: [{{address: 192.0.2.99}}]}}
    - {{name: geo, policy: geo,
       targets: [{{edge: edge-eu, address: 192.0.2.12}}, {{address: 192.0.2.13, countries: ['*']}}]}}
""")


def engine() -> QueryEngine:
    return QueryEngine(ZONE, RttStore(), FixedRandom(0.5))


def ask(query: dns.message.Message | bytes, source: str = "10.9.8.7", transport: str = "udp") -> Outcome:
    wire = query if isinstance(query, bytes) else query.to_wire()
    outcome = engine().answer(wire, source, transport, 0.0, {})  # type: ignore[arg-type]
    assert outcome is not None
    return outcome


def response(query: dns.message.Message, **kwargs: str) -> dns.message.Message:
    return dns.message.from_wire(ask(query, **kwargs).wire)


def q(name: str, rdtype: str = "A", **kwargs: object) -> dns.message.Message:
    return dns.message.make_query(name, rdtype, **kwargs)  # type: ignore[arg-type]


def test_apex_has_soa_and_ns_and_answers_are_authoritative() -> None:
    soa = response(q("cdn.example.test.", "SOA"))
    ns = response(q("cdn.example.test.", "NS"))
    assert soa.flags & dns.flags.AA and soa.answer[0].rdtype == dns.rdatatype.SOA
    assert [r.to_text() for r in ns.answer[0]] == ["ns1.cdn.example.test."]


def test_unknown_name_in_the_zone_is_nxdomain_with_the_soa_in_authority() -> None:
    answer = response(q("nope.cdn.example.test."))
    assert answer.rcode() == dns.rcode.NXDOMAIN and answer.flags & dns.flags.AA
    assert answer.authority[0].rdtype == dns.rdatatype.SOA and answer.authority[0].ttl == 60


def test_known_name_without_the_type_is_nodata() -> None:
    answer = response(q("v6.cdn.example.test.", "A"))
    assert answer.rcode() == dns.rcode.NOERROR and not answer.answer
    assert answer.authority[0].rdtype == dns.rdatatype.SOA


def test_an_empty_non_terminal_is_nodata_not_nxdomain() -> None:
    answer = response(q("deep.cdn.example.test."))
    assert answer.rcode() == dns.rcode.NOERROR and not answer.answer


def test_other_zones_are_refused_without_aa() -> None:
    answer = response(q("example.com."))
    assert answer.rcode() == dns.rcode.REFUSED and not answer.flags & dns.flags.AA


def test_a_and_aaaa_and_txt_share_a_name() -> None:
    assert response(q("v6.cdn.example.test.", "AAAA")).answer[0].ttl == 300
    txt = response(q("www.cdn.example.test.", "TXT"))
    assert txt.answer[0][0].strings == (b"hello",)


def test_cname_to_an_in_zone_record_is_followed_to_the_address() -> None:
    answer = response(q("alias.cdn.example.test."), source="203.0.113.5")
    assert [rrset.rdtype for rrset in answer.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    assert answer.answer[1][0].address == "192.0.2.11"


def test_cname_out_of_the_zone_is_answered_alone() -> None:
    answer = response(q("out.cdn.example.test."))
    assert answer.rcode() == dns.rcode.NOERROR and len(answer.answer) == 1


def test_latency_answer_follows_the_resolver_address_without_ecs() -> None:
    outcome = ask(q("www.cdn.example.test."), source="203.0.113.5")
    assert outcome.policy == "latency" and outcome.decision == "edge-sg"
    assert dns.message.from_wire(outcome.wire).answer[0].ttl == 20  # latency records get the low TTL


def test_ecs_decides_and_is_echoed_with_a_scope() -> None:
    ecs = dns.edns.ECSOption("203.0.113.0", 24)
    outcome = ask(q("www.cdn.example.test.", use_edns=0, options=[ecs]), source="10.0.0.1")
    answer = dns.message.from_wire(outcome.wire)
    assert outcome.client == "203.0.113.0/24" and outcome.decision == "edge-sg"
    (echo,) = answer.options
    assert isinstance(echo, dns.edns.ECSOption) and (echo.address, echo.srclen, echo.scopelen) == (
        "203.0.113.0",
        24,
        24,
    )


def test_ecs_on_a_static_answer_is_echoed_with_scope_zero() -> None:
    ecs = dns.edns.ECSOption("203.0.113.0", 24)
    answer = response(q("v6.cdn.example.test.", "AAAA", use_edns=0, options=[ecs]))
    (echo,) = answer.options
    assert isinstance(echo, dns.edns.ECSOption) and echo.scopelen == 0


def test_ecs_source_prefix_zero_falls_back_to_the_resolver_address() -> None:
    ecs = dns.edns.ECSOption("0.0.0.0", 0)
    outcome = ask(q("www.cdn.example.test.", use_edns=0, options=[ecs]), source="203.0.113.9")
    assert outcome.client == "203.0.113.9/32" and outcome.decision == "edge-sg"


def test_geo_uses_the_country_of_the_client_network() -> None:
    assert ask(q("geo.cdn.example.test."), source="198.51.100.1").decision == "edge-eu"
    assert ask(q("geo.cdn.example.test."), source="192.0.2.1").decision == "192.0.2.13"


def test_ecs_with_address_bits_beyond_the_source_prefix_is_formerr() -> None:
    query = q("www.cdn.example.test.", use_edns=0, options=[dns.edns.ECSOption("203.0.113.0", 24)])
    wire = bytearray(query.to_wire())
    wire[-5] = 22  # SOURCE PREFIX-LENGTH /22, but 203.0.113 has bits set past it (RFC 7871 §6)
    ecs_wire = bytes(wire)
    assert ask(ecs_wire).rcode == "FORMERR"


def test_a_txt_answer_over_512_bytes_is_truncated_over_udp_and_whole_over_tcp() -> None:
    udp = response(q("big.cdn.example.test.", "TXT"))
    tcp = response(q("big.cdn.example.test.", "TXT"), transport="tcp")
    assert udp.flags & dns.flags.TC and not udp.answer
    assert not tcp.flags & dns.flags.TC
    assert b"".join(tcp.answer[0][0].strings).decode() == LONG_TEXT


def test_edns_payload_of_the_client_lets_a_large_answer_fit_in_udp() -> None:
    answer = response(q("big.cdn.example.test.", "TXT", use_edns=0, payload=1232))
    assert not answer.flags & dns.flags.TC and answer.payload == 1232


def test_edns_version_above_zero_is_badvers() -> None:
    answer = response(q("www.cdn.example.test.", use_edns=1))
    assert answer.rcode() == dns.rcode.BADVERS


def test_other_opcodes_are_notimp() -> None:
    query = q("www.cdn.example.test.")
    query.set_opcode(dns.opcode.NOTIFY)
    assert response(query).rcode() == dns.rcode.NOTIMP


def test_garbage_gets_formerr_with_the_query_id() -> None:
    outcome = ask(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff")
    assert outcome.rcode == "FORMERR" and outcome.wire[:2] == b"\x12\x34"
    assert dns.message.from_wire(outcome.wire).rcode() == dns.rcode.FORMERR


def test_short_packets_and_responses_are_dropped() -> None:
    assert engine().answer(b"\x00\x01", "10.0.0.1", "udp", 0.0, {}) is None
    reply = dns.message.make_response(q("www.cdn.example.test.")).to_wire()
    assert engine().answer(reply, "10.0.0.1", "udp", 0.0, {}) is None


def test_the_response_id_is_the_query_id_when_served_from_the_plan_cache() -> None:
    shared = engine()
    first, second = q("www.cdn.example.test."), q("www.cdn.example.test.")
    second.id = (first.id + 1) % 65536
    for query in (first, second, first):
        outcome = shared.answer(query.to_wire(), "203.0.113.5", "udp", 0.0, {})
        assert outcome is not None and dns.message.from_wire(outcome.wire).id == query.id


@settings(max_examples=300)
@given(st.binary(min_size=0, max_size=120))
def test_any_bytes_get_an_answer_or_a_drop_never_an_exception(data: bytes) -> None:
    outcome = engine().answer(data, "10.0.0.1", "udp", 0.0, {})
    if outcome is not None:
        assert outcome.wire[:2] == data[:2]
