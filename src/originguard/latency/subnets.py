"""Client subnets as RTTs are measured, reported and stored: a /24 (IPv4) or /48 (IPv6) key."""

from __future__ import annotations

import ipaddress

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Measured RTTs are kept per /24 (IPv4) or /48 (IPv6): the granularity of ECS that resolvers send
# (RFC 7871 §11.1) and so the scope of every client-dependent answer.
V4_SUBNET = 24
V6_SUBNET = 48


SubnetKey = tuple[int, int]


def subnet_key(address: IpAddress) -> SubnetKey:
    """The /24 (IPv4) or /48 (IPv6) holding `address`, as a hashable key."""
    if address.version == 4:
        return 4, int(address) >> (32 - V4_SUBNET)
    return 6, int(address) >> (128 - V6_SUBNET)


def parse_subnet(text: str) -> SubnetKey:
    """`203.0.113.0/24`, `2001:db8:1::/48` or a bare address → its /24 or /48 key; ValueError if wider."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    needed = V4_SUBNET if network.version == 4 else V6_SUBNET
    if network.prefixlen < needed:
        raise ValueError(f"{text!r} is wider than /{needed}; report per /{needed}")
    return subnet_key(network.network_address)


def subnet_text(key: SubnetKey) -> str:
    """The key back as CIDR text (for logs and reasons)."""
    version, number = key
    if version == 4:
        return f"{ipaddress.IPv4Address(number << (32 - V4_SUBNET))}/{V4_SUBNET}"
    return f"{ipaddress.IPv6Address(number << (128 - V6_SUBNET))}/{V6_SUBNET}"
