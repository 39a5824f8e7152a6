# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Origins as the edge uses them: where to connect, how to sign, and failover between two.

Compiled once at load: TLS contexts, the custom header bytes (secrets resolved here and nowhere
else), and failover groups resolved to their member origins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from originguard.config import LoadedConfig
from originguard.config.edge import DistributionConfig, EdgeNode, Origin
from originguard.config.values import SecretRef
from originguard.edge.signing import OriginSigning, origin_signing, request_cuts
from originguard.errors import ConfigError
from originguard.http.client import Upstream
from originguard.http.headers import HOP_BY_HOP, FieldSet
from originguard.http.tls import client_context
from originguard.secrets import SecretValues


@dataclass(frozen=True, slots=True)
class CompiledOrigin:
    id: str
    config: Origin
    https: Upstream | None
    http: Upstream | None
    signing: OriginSigning
    host_bytes: bytes  # the Host sent when the origin does not forward the viewer's
    request_cuts: FieldSet  # viewer fields a relayed head edited in place leaves out

    def upstream(self, viewer_scheme: str) -> Upstream:
        """The connection for a request, by the origin protocol policy."""
        policy = self.config.protocol_policy
        if policy == "https-only" or (policy == "match-viewer" and viewer_scheme == "https"):
            assert self.https is not None
            return self.https
        assert self.http is not None
        return self.http


@dataclass(frozen=True, slots=True)
class OriginTarget:
    """What a behaviour names: one origin, or a primary/secondary failover pair."""

    members: tuple[CompiledOrigin, ...]
    failover_statuses: frozenset[int]


def compile_origins(
    distribution: DistributionConfig,
    secrets: dict[str, SecretValues],
    resolve_path: Callable[[str], Path],
    source: str,
) -> dict[str, OriginTarget]:
    """Origin id / group id → target; a missing CA bundle is a ConfigError naming the key."""
    origins: dict[str, CompiledOrigin] = {}
    for index, origin in enumerate(distribution.origins):
        origins[origin.id] = _compile(origin, secrets, resolve_path, source, f"distribution.origins[{index}]")
    targets = {oid: OriginTarget((o,), frozenset()) for oid, o in origins.items()}
    for group in distribution.origin_groups:
        members = tuple(origins[m] for m in group.members)
        targets[group.id] = OriginTarget(members, frozenset(group.failover_statuses))
    return targets


def _compile(
    origin: Origin,
    secrets: dict[str, SecretValues],
    resolve_path: Callable[[str], Path],
    source: str,
    where: str,
) -> CompiledOrigin:
    headers: list[tuple[bytes, bytes]] = []
    for name, value in origin.custom_headers.items():
        if isinstance(value, SecretRef):
            if value.secret not in secrets:
                raise ConfigError(
                    source, f"{where}.custom_headers.{name}", f"secret {value.secret!r} is not loaded"
                )
            headers.append((name.encode(), secrets[value.secret].current.reveal()))
        else:
            headers.append((name.encode(), value.encode()))
    signing = origin_signing(headers)
    host, port = origin.address
    https = http = None
    if origin.protocol_policy != "http-only":
        ca: Path | None = None
        if origin.ca_bundle is not None:
            ca = resolve_path(origin.ca_bundle)
            if not ca.exists():
                raise ConfigError(source, f"{where}.ca_bundle", f"CA bundle {ca} does not exist")
        try:
            context = client_context(ca)
        except OSError as exc:
            raise ConfigError(source, f"{where}.ca_bundle", f"cannot load CA bundle: {exc}") from None
        https = Upstream(host, port, context, origin.server_name or host)
    if origin.protocol_policy != "https-only":
        http = Upstream(host, origin.http_port or port)
    host_bytes = (origin.server_name or origin.address.host).encode()
    cuts = FieldSet(HOP_BY_HOP | request_cuts(signing))
    return CompiledOrigin(origin.id, origin, https, http, signing, host_bytes, cuts)


def shield_targets(
    loaded: LoadedConfig, node: EdgeNode, targets: dict[str, OriginTarget]
) -> dict[str, OriginTarget]:
    """Every behaviour fetches from the shield edge over HTTPS, signed like an origin request."""
    assert node.shield is not None and loaded.config.distribution is not None
    index = [e.name for e in loaded.config.edges].index(node.name)
    where = f"edges[{index}].shield"
    shield = next((e for e in loaded.config.edges if e.name == node.shield.edge), None)
    if shield is None or shield.https is None or shield.name == node.name:
        raise ConfigError(
            loaded.source, f"{where}.edge", f"{node.shield.edge!r} is not another edge with https"
        )
    first = loaded.config.distribution.origins[0]
    origin = Origin(
        id=f"shield:{shield.name}",
        address=shield.https,
        protocol_policy="https-only",
        server_name=node.shield.server_name or first.server_name,
        ca_bundle=node.shield.ca_bundle or first.ca_bundle,
        custom_headers=first.custom_headers,
        read_timeout=first.read_timeout,
        connect_timeout=first.connect_timeout,
    )
    compiled = _compile(origin, loaded.secrets, loaded.resolve_path, loaded.source, where)
    target = OriginTarget((compiled,), frozenset())
    return dict.fromkeys(targets, target)
