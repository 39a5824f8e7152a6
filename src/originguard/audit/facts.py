"""What each input file tells the cross-file checks, kept as hashes: never a secret value."""

from __future__ import annotations

from dataclasses import dataclass, field

from originguard.audit.report import Finding, Severity
from originguard.audit.secret_strength import Strength


@dataclass(frozen=True, slots=True)
class SecretSighting:
    """A secret header value seen somewhere: its SHA-256, its strength, where, and in which scope.

    `scope` groups sightings that belong to one deployment (a distribution, an Ingress group); the
    same digest in two scopes of the same family is reuse. ELBv2 sightings have no scope because
    describe-rules output does not say which load balancer it came from.
    """

    digest: str
    strength: Strength
    length: int
    header: str
    resource: str
    field: str
    family: str  # "edge" for CloudFront, "lb" for load balancers
    scope: str | None


@dataclass(frozen=True, slots=True)
class EdgeHeader:
    """A custom header CloudFront adds to every request to an origin that a behaviour reaches."""

    name: str
    digest: str
    folded: str  # SHA-256 of the lower-cased value: the ALB compares values case-insensitively
    resource: str
    field: str
    scope: str


@dataclass(frozen=True, slots=True)
class HeaderCondition:
    """An http-header condition of a rule; `folded` holds SHA-256s of its lower-cased exact values.

    `patterns` is True when some value is a wildcard or a wide regex: what the condition admits is
    then not known from hashes, so no value can be said to be missing from it.
    """

    name: str
    folded: tuple[str, ...]
    field: str
    patterns: bool = False


@dataclass(frozen=True, slots=True)
class ForwardRule:
    """A load-balancer rule that forwards to targets, with its http-header conditions."""

    resource: str
    field: str
    label: str
    headers: tuple[HeaderCondition, ...]


@dataclass(frozen=True, slots=True)
class OriginPort:
    """The HTTPS port CloudFront uses for an origin (must be the ALB's HTTPS listener port)."""

    port: int
    resource: str
    field: str


@dataclass
class Facts:
    """Everything one or more inputs contribute: local findings plus facts for cross-file checks."""

    findings: list[Finding] = field(default_factory=list)
    edge_headers: list[EdgeHeader] = field(default_factory=list)
    forward_rules: list[ForwardRule] = field(default_factory=list)
    sightings: list[SecretSighting] = field(default_factory=list)
    origin_ports: list[OriginPort] = field(default_factory=list)
    lb_https_ports: set[int] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)

    def add(
        self, check: str, severity: Severity, resource: str, where: str, message: str, fix: str = ""
    ) -> None:
        """Append one finding."""
        self.findings.append(Finding(check, severity, resource, where, message, fix))

    def merge(self, other: Facts) -> None:
        """Fold another file's facts into these."""
        self.findings += other.findings
        self.edge_headers += other.edge_headers
        self.forward_rules += other.forward_rules
        self.sightings += other.sightings
        self.origin_ports += other.origin_ports
        self.lb_https_ports |= other.lb_https_ports
        self.kinds |= other.kinds
