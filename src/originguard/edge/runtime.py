# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Everything an edge compiles at load and shares between its listeners (swapped whole on reload)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from originguard.cache import MemoryStore
from originguard.cache.collapse import Collapser
from originguard.cache.facts import DEFAULT_TARGETED
from originguard.config import LoadedConfig
from originguard.config.edge import DistributionConfig, EdgeNode
from originguard.edge.behaviors import CompiledBehavior, compile_behaviors
from originguard.edge.origins import OriginTarget, compile_origins, shield_targets
from originguard.errors import ConfigError
from originguard.http.client import UpstreamPool
from originguard.observe.access_log import AccessLog
from originguard.observe.metrics import Counters, Histogram, MetricSet
from originguard.waf import (
    CompiledAcl,
    CrsLoadError,
    GeoTable,
    RateState,
    SampledRequests,
    WafStats,
    compile_acl,
    load_geo_table,
)


@dataclass
class WafRuntime:
    acl: CompiledAcl
    name: str
    rate: RateState = field(default_factory=RateState)
    stats: WafStats = field(default_factory=WafStats)
    samples: SampledRequests = field(default_factory=lambda: SampledRequests(100))


@dataclass
class EdgeConfigView:
    """The compiled, reload-swappable part of an edge."""

    node: EdgeNode
    distribution: DistributionConfig
    behaviors: tuple[CompiledBehavior, ...]
    origins: dict[str, OriginTarget]
    waf: WafRuntime | None
    targeted: tuple[bytes, ...]
    secret_header_names: frozenset[bytes]
    redacted_headers: tuple[str, ...]
    via: bytes
    hit_head: bytes
    health_path: bytes
    miss_fields: bytes  # the lines a relayed miss adds to the origin's head


def compile_edge(
    loaded: LoadedConfig, name: str, previous: EdgeConfigView | None = None, rate: RateState | None = None
) -> EdgeConfigView:
    """Compile one edge of a config; WAF rate counters survive a reload of the same ACL.

    `rate` is the process's one counter table (shared through Redis in a cluster); when given it
    is used whatever the ACL is called.
    """
    config = loaded.config
    node = next((e for e in config.edges if e.name == name), None)
    if node is None:
        known = [e.name for e in config.edges]
        raise ConfigError(loaded.source, "edges", f"no edge named {name!r} (edges: {known})")
    if config.distribution is None:
        raise ConfigError(loaded.source, "distribution", "an edge needs a distribution: section")
    distribution = config.distribution
    origins = compile_origins(distribution, loaded.secrets, loaded.resolve_path, loaded.source)
    if node.shield is not None:
        origins = shield_targets(loaded, node, origins)
    names: frozenset[bytes] = frozenset().union(
        *(m.signing.names for t in origins.values() for m in t.members)
    )
    # What WAF samples and block logs never record: the secret headers, nor credentials.
    hidden = (*sorted(n.decode() for n in names), "authorization", "cookie", "proxy-authorization")
    waf = None
    if distribution.web_acl is not None:
        acls = config.waf.web_acls if config.waf is not None else {}
        if distribution.web_acl not in acls:
            raise ConfigError(
                loaded.source,
                "distribution.web_acl",
                f"web ACL {distribution.web_acl!r} is not under waf.web_acls",
            )
        geo_path = config.waf.geo_table if config.waf is not None else None
        geo = load_geo_table(loaded.resolve_path(geo_path)) if geo_path else None
        acl = compile_web_acl(loaded, distribution.web_acl, geo)
        kept = previous.waf if previous is not None and previous.waf is not None else None
        if kept is not None and kept.name == distribution.web_acl:
            shared = rate if rate is not None else kept.rate  # an empty state is falsy (it has __len__)
            waf = WafRuntime(acl, distribution.web_acl, shared, kept.stats, kept.samples)
        else:
            samples = SampledRequests(100, secret_headers=hidden)
            waf = WafRuntime(
                acl, distribution.web_acl, rate if rate is not None else RateState(), samples=samples
            )
    via = b"1.1 " + name.encode() + b" (originguard)"
    return EdgeConfigView(
        node=node,
        distribution=distribution,
        behaviors=compile_behaviors(distribution),
        origins=origins,
        waf=waf,
        targeted=(distribution.cache_control_field.lower().encode(), *DEFAULT_TARGETED[1:]),
        secret_header_names=names,
        redacted_headers=hidden,
        via=via,
        health_path=distribution.health_path.encode(),
        hit_head=b"X-Cache: Hit from originguard\r\nVia: "
        + via
        + b"\r\nX-Edge-Location: "
        + name.encode()
        + b"\r\n",
        miss_fields=b"X-Cache: Miss from originguard\r\nVia: "
        + via
        + b"\r\nX-Edge-Location: "
        + name.encode()
        + b"\r\n",
    )


def compile_web_acl(loaded: LoadedConfig, name: str, geo: GeoTable | None = None) -> CompiledAcl:
    """Compile web ACL `name` of a config; a CRS file that does not load is a config error."""
    waf = loaded.config.waf
    assert waf is not None and name in waf.web_acls
    acl = waf.web_acls[name]
    try:
        return compile_acl(acl, geo_table=geo, resolve=loaded.resolve_path)
    except CrsLoadError as exc:
        index = next((i for i, rule in enumerate(acl.rules) if rule.name == exc.rule), 0)
        where = f"waf.web_acls.{name}.rules[{index}].statement.managed"
        raise ConfigError(loaded.source, where, f"the rule set does not load: {exc}") from None


@dataclass
class EdgeRuntime:
    """Long-lived state of one edge process: the cache, pools and counters outlive reloads."""

    view: EdgeConfigView
    store: MemoryStore
    pool: UpstreamPool
    access_log: AccessLog
    metrics: MetricSet
    # Wall-clock seconds for every freshness, age and WAF-window decision the edge makes (never
    # read `time.time()` directly: tests pass a clock they move instead of sleeping).
    clock: Callable[[], float] = time.time
    collapser: Collapser[object] = field(default_factory=Collapser)
    started: float = field(default_factory=time.time)
    # Made in __post_init__ (declared: this module is compiled, and its classes have fixed slots).
    requests: Counters = field(init=False)
    bytes_sent: Counters = field(init=False)
    origin_latency: Histogram = field(init=False)
    relayed: Counters = field(init=False)
    origin_errors: Counters = field(init=False)
    waf_rules: Counters = field(init=False)
    origin_retries: Counters = field(init=False)
    # Origin id → loop time until which a failover group tries it last (a failed connect).
    origin_out_until: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.requests = self.metrics.counters(
            "originguard_edge_requests_total", "Viewer requests by result and status", ("result", "status")
        )
        self.bytes_sent = self.metrics.counters("originguard_edge_bytes_total", "Bytes sent to viewers", ())
        self.origin_latency = self.metrics.histogram(
            "originguard_edge_origin_duration_seconds", "Origin fetch latency"
        )
        self.relayed = self.metrics.counters(
            "originguard_edge_relayed_total",
            "Uncached requests streamed by the relay fast path (the rest ran as coroutines)",
            (),
        )
        self.origin_errors = self.metrics.counters(
            "originguard_edge_origin_errors_total", "Origin failures by kind", ("origin", "kind")
        )
        self.origin_retries = self.metrics.counters(
            "originguard_edge_origin_retries_total",
            "Origin requests sent again (connection attempts, failover) after a failure, by origin",
            ("origin",),
        )
        self.waf_rules = self.metrics.counters(
            "originguard_edge_waf_rule_total", "WAF outcomes per rule", ("rule", "outcome")
        )
        self.metrics.gauges(
            "originguard_edge_cache_bytes",
            "Bytes held by the cache",
            (),
            lambda: {(): float(self.store.size)},
        )
        self.metrics.gauges(
            "originguard_edge_cache_entries",
            "Responses held by the cache",
            (),
            lambda: {(): float(len(self.store))},
        )
