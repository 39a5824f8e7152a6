"""Longest-prefix match of client addresses against configured CIDRs (pure, compiled once)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Generic, TypeVar

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

V = TypeVar("V")


class CidrMap(Generic[V]):
    """Map CIDRs to values; `lookup` returns the value of the longest prefix holding an address."""

    __slots__ = ("_by_version",)

    def __init__(self, entries: Iterable[tuple[IpNetwork, V]]) -> None:
        tables: dict[int, dict[int, dict[int, V]]] = {4: {}, 6: {}}
        for network, value in entries:
            bits = network.max_prefixlen - network.prefixlen
            tables[network.version].setdefault(network.prefixlen, {})[
                int(network.network_address) >> bits
            ] = value
        # One dict per prefix length, longest first: at most 33 (or 129) probes, usually a handful.
        self._by_version: dict[int, tuple[tuple[int, int, dict[int, V]], ...]] = {
            version: tuple(
                (length, (32 if version == 4 else 128) - length, table[length])
                for length in sorted(table, reverse=True)
            )
            for version, table in tables.items()
        }

    def lookup(self, address: IpAddress) -> tuple[V, int] | None:
        """The value and prefix length of the most specific CIDR holding `address`, or None."""
        number = int(address)
        for length, bits, table in self._by_version[address.version]:
            value = table.get(number >> bits)
            if value is not None:
                return value, length
        return None

    def __bool__(self) -> bool:
        return any(self._by_version.values())
