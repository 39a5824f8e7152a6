"""Country lookup for geo_match: longest-prefix match over a CIDR→country table.

The table is a CSV of `cidr,CC` lines (`#` starts a comment). By default the small bundled table
`originguard/data/geo-small.csv` is used: documentation ranges (192.0.2.0/24→XA, 198.51.100.0/24→XB,
203.0.113.0/24→XC, 2001:db8::/32→XD, loopback→XL) and a few long-stable allocations. It is not a
geolocation database; for production set `waf.geo_table: FILE` (same format, e.g. converted from a
free country-CIDR export) and pass `load_geo_table(FILE)` to `compile_acl(..., geo_table=...)`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from originguard.errors import ConfigError
from originguard.waf.ipset import IpKey


class GeoTable:
    """Address → country code, longest prefix wins; built once, shared by every geo_match."""

    __slots__ = ("_v4", "_v6")

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        tables: dict[int, dict[int, dict[int, str]]] = {4: {}, 6: {}}
        for cidr, country in rows:
            network = ipaddress.ip_network(cidr, strict=False)
            bits = network.max_prefixlen
            shift = bits - network.prefixlen
            tables[network.version].setdefault(shift, {})[int(network.network_address) >> shift] = country
        # Fewest shifted-away bits first = longest prefix first, so the first hit is the most specific.
        self._v4 = tuple(sorted(tables[4].items()))
        self._v6 = tuple(sorted(tables[6].items()))

    def country(self, key: IpKey) -> str | None:
        """The country of an address, or None when the table does not know it."""
        version, number = key
        for shift, networks in self._v4 if version == 4 else self._v6:
            found = networks.get(number >> shift)
            if found is not None:
                return found
        return None


def parse_geo_csv(text: str, source: str) -> GeoTable:
    """A table from CSV text; a bad line is a ConfigError naming the file and line."""
    rows: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cidr, _, country = line.partition(",")
        country = country.strip().upper()
        try:
            ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            raise ConfigError(source, f"line {number}", f"{cidr.strip()!r} is not a CIDR") from None
        if len(country) != 2 or not country.isalpha():
            raise ConfigError(source, f"line {number}", f"{country!r} is not a two-letter country code")
        rows.append((cidr.strip(), country))
    return GeoTable(rows)


def load_geo_table(path: Path | str | None = None) -> GeoTable:
    """The table in `path`, or the bundled small table when `path` is None."""
    if path is None:
        text = resources.files("originguard").joinpath("data/geo-small.csv").read_text(encoding="utf-8")
        return parse_geo_csv(text, "originguard/data/geo-small.csv")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "waf.geo_table", f"cannot read the geo table: {exc.strerror}") from None
    return parse_geo_csv(text, str(path))
