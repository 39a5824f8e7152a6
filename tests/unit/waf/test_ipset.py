"""IP sets agree with the ipaddress module, whatever the networks and addresses."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.waf.ipset import CidrSet, forwarded_ips, parse_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

v4_networks = st.builds(
    lambda addr, length: ipaddress.IPv4Network((addr, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
v6_networks = st.builds(
    lambda addr, length: ipaddress.IPv6Network((addr, length), strict=False),
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
)
mapped_networks = st.builds(
    lambda addr, length: ipaddress.IPv6Network(((0xFFFF << 32) + addr, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(96, 128),
)
addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
    st.integers(0, 2**32 - 1).map(lambda n: f"::ffff:{ipaddress.IPv4Address(n)}"),
)


def truth(networks: list[Network], text: str) -> bool:
    """ipaddress membership, after our one rule: ::ffff:a.b.c.d (address or /96+ network) is IPv4."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in map(_as_v4, networks))


def _as_v4(network: Network) -> Network:
    if network.version == 4 or int(network.network_address) >> 32 != 0xFFFF or network.prefixlen < 96:
        return network
    start = int(network.network_address) - (0xFFFF << 32)
    return ipaddress.IPv4Network((start, network.prefixlen - 96))


@settings(max_examples=300)
@given(
    networks=st.lists(st.one_of(v4_networks, v6_networks, mapped_networks), max_size=20), address=addresses
)
def test_membership_equals_ipaddress_truth(networks: list[Network], address: str) -> None:
    key = parse_ip(address)
    assert key is not None
    assert (key in CidrSet(networks)) == truth(networks, address)


@settings(max_examples=200)
@given(networks=st.lists(v4_networks, min_size=1, max_size=20), data=st.data())
def test_addresses_inside_a_member_network_are_members(networks: list[Network], data: st.DataObject) -> None:
    network = data.draw(st.sampled_from(networks))
    offset = data.draw(st.integers(0, network.num_addresses - 1))
    address = str(network.network_address + offset)
    assert parse_ip(address) in CidrSet(networks)


@given(text=st.text(max_size=50))
def test_parse_ip_never_crashes_and_agrees_with_ipaddress(text: str) -> None:
    key = parse_ip(text)
    try:
        expected = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        if "." in text and ":" not in text:
            assert key is None
        return
    if key is not None and expected.version == 4:
        assert key == (4, int(expected))


def test_parse_ip_rejects_leading_zeros_and_junk() -> None:
    assert parse_ip("010.0.0.1") is None  # ambiguous octal spelling
    assert parse_ip("1.2.3.256") is None
    assert parse_ip("1.2.3") is None
    assert parse_ip("١.٢.٣.٤") is None  # non-ASCII digits
    assert parse_ip("::ffff:1.2.3.4") == (4, 0x01020304)


def test_lookup_cost_is_bounded_by_prefix_lengths_not_size() -> None:
    many = CidrSet(ipaddress.IPv4Network((i << 8, 24)) for i in range(100_000))
    assert many.size == 100_000 and many.prefix_lengths == 1
    assert parse_ip("0.1.0.5") in many


def test_forwarded_ips_positions() -> None:
    header = ("203.0.113.1, junk", " 198.51.100.2 ")
    assert forwarded_ips(header, "first") == [(4, int(ipaddress.IPv4Address("203.0.113.1")))]
    assert forwarded_ips(header, "last") == [(4, int(ipaddress.IPv4Address("198.51.100.2")))]
    assert len(forwarded_ips(header, "any")) == 2
    assert forwarded_ips((), "first") == []
