"""Config models of the origin gate: listeners, rules (conditions + actions) and target groups.

Names and semantics follow the cloud application load balancer: conditions are ANDed across types,
values within one condition are ORed; rules run by ascending priority; the default action runs last.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from originguard.config.values import (
    Cidr,
    Duration,
    HostPortField,
    Model,
    SecretRef,
    UrlPath,
)
from originguard.http.limits import DEFAULT_LIMITS

HeaderValue = str | SecretRef

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class HttpHeaderCondition(Model):
    """Matches a header by name (case-insensitive) against patterns or secret values."""

    name: str = Field(description="header name (not Host: use `host_header`)")
    values: list[HeaderValue] = Field(
        min_length=1,
        description="patterns (`*`, `?`, case-insensitive) or `{secret: NAME}` (exact, constant time)",
    )

    @field_validator("name")
    @classmethod
    def _token(cls, name: str) -> str:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() == "host":
            raise ValueError("use host_header for Host, not http_header")
        return name


class ValuesCondition(Model):
    """Patterns with `*` and `?`: host names case-insensitive, paths case-sensitive."""

    values: list[str] = Field(min_length=1, description="patterns; any one matching is enough")


class MethodCondition(Model):
    """Request methods, matched exactly."""

    values: list[str] = Field(min_length=1, description="methods such as GET, POST")

    @field_validator("values")
    @classmethod
    def _methods(cls, values: list[str]) -> list[str]:
        for method in values:
            if not re.fullmatch(r"[A-Z_-]{1,40}", method):
                raise ValueError(f"{method!r}: methods are upper case A-Z, '-' or '_' (matched exactly)")
        return values


class QueryPair(Model):
    """One query argument pattern (`\\` escapes `*` and `?`), case-insensitive."""

    key: str | None = Field(default=None, description="argument name pattern (none: any argument)")
    value: str = Field(description="argument value pattern")


class QueryStringCondition(Model):
    """Matches when any pair matches an argument of the query."""

    values: list[QueryPair] = Field(min_length=1, description="`{key?, value}` pairs")


class SourceIpCondition(Model):
    """Matches the TCP peer's address."""

    values: list[Cidr] = Field(min_length=1, description="IPv4 or IPv6 CIDRs")


class Condition(Model):
    """Exactly one condition type per list entry."""

    http_header: HttpHeaderCondition | None = Field(default=None, description="a request header")
    host_header: ValuesCondition | None = Field(default=None, description="the Host header")
    path_pattern: ValuesCondition | None = Field(default=None, description="the path (without query)")
    http_request_method: MethodCondition | None = Field(default=None, description="the method")
    query_string: QueryStringCondition | None = Field(default=None, description="query arguments")
    source_ip: SourceIpCondition | None = Field(default=None, description="the TCP peer address")

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "each condition needs exactly one of http_header, host_header, path_pattern, "
                f"http_request_method, query_string, source_ip (got {given or 'none'})"
            )
        return self


class WeightedTargetGroup(Model):
    """A share of forwarded requests."""

    name: str = Field(description="a target group under `gate.target_groups`")
    weight: int = Field(default=1, ge=0, le=999, description="relative share of requests (0: none)")


class ForwardAction(Model):
    """Send the request to one target group, or split it across weighted ones."""

    target_group: str | None = Field(default=None, description="one target group")
    target_groups: list[WeightedTargetGroup] | None = Field(
        default=None, description="weighted target groups (instead of `target_group`)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> ForwardAction:
        if (self.target_group is None) == (self.target_groups is None):
            raise ValueError("give exactly one of target_group or target_groups")
        if self.target_groups is not None and not any(g.weight for g in self.target_groups):
            raise ValueError("at least one weighted target group needs a weight above 0")
        return self


class FixedResponseAction(Model):
    """Answer from the gate itself, from prebuilt bytes."""

    status: int = Field(default=403, ge=200, le=599, description="status code")
    content_type: str = Field(default="text/plain", description="Content-Type of the body")
    body: str = Field(default="Forbidden", max_length=1024, description="response body")


class RedirectAction(Model):
    """Redirect; each part may use `#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`."""

    protocol: str = Field(default="#{protocol}", description="`http`, `https` or a placeholder")
    host: str = Field(default="#{host}", description="host of the Location")
    port: str = Field(default="#{port}", description="port of the Location")
    path: str = Field(default="/#{path}", description="path of the Location")
    query: str = Field(default="#{query}", description="query of the Location")
    status_code: Literal[301, 302] = Field(default=301, description="301 or 302")


class Action(Model):
    """Exactly one of forward, fixed_response, redirect."""

    forward: ForwardAction | None = Field(default=None, description="to target groups")
    fixed_response: FixedResponseAction | None = Field(default=None, description="a fixed answer")
    redirect: RedirectAction | None = Field(default=None, description="a redirect")

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                f"each action needs exactly one of forward, fixed_response, redirect (got {given})"
            )
        return self


class ListenerRule(Model):
    """A rule: its action runs when every condition matches; rules run by ascending priority."""

    priority: int = Field(ge=1, le=50000, description="unique per listener; lower runs first")
    conditions: list[Condition] = Field(min_length=1, description="all must match (one type per entry)")
    actions: list[Action] = Field(min_length=1, max_length=1, description="one action")


class TlsFiles(Model):
    """A certificate and its key, PEM files (relative paths from the config file's directory)."""

    certificate: str = Field(description="PEM certificate chain file")
    key: str = Field(description="PEM private key file (keep it 0600)")


class Listener(Model):
    """A listening address with its rules; TLS 1.2+, ALPN http/1.1 when https."""

    port: HostPortField = Field(description="listen address")
    protocol: Literal["https", "http"] = Field(
        default="https", description="`https` (needs `tls`) or `http` (`check` fails it)"
    )
    tls: TlsFiles | None = Field(default=None, description="the listener's certificate")
    default_action: Action = Field(
        default=Action(fixed_response=FixedResponseAction()),
        description="runs when no rule matches (a fixed 403 `Forbidden`)",
    )
    rules: list[ListenerRule] = Field(default=[], description="by ascending priority")
    underscores_in_headers: bool = Field(
        default=False,
        description="pass on request fields whose names hold `_` (dropped by default, as nginx does); "
        "an underscore spelling of a secret header's name is dropped either way",
    )

    @model_validator(mode="after")
    def _tls_for_https(self) -> Listener:
        if self.protocol == "https" and self.tls is None:
            raise ValueError("an https listener needs tls: {certificate: FILE, key: FILE}")
        return self

    @field_validator("rules")
    @classmethod
    def _unique_priorities(cls, rules: list[ListenerRule]) -> list[ListenerRule]:
        seen: set[int] = set()
        for rule in rules:
            if rule.priority in seen:
                raise ValueError(
                    f"priority {rule.priority} is used twice; priorities are unique per listener"
                )
            seen.add(rule.priority)
        return rules


class HealthCheck(Model):
    """Active checks of each target; an unhealthy target gets no new requests."""

    protocol: Literal["http", "https", "tcp"] = Field(
        default="http", description="GET the path, or TCP connect"
    )
    path: UrlPath = Field(default="/healthz", description="path requested")
    interval: Duration = Field(default=5.0, description="time between checks")
    timeout: Duration = Field(default=2.0, description="a check slower than this fails")
    healthy: int = Field(default=2, ge=1, le=10, description="passes in a row to become healthy")
    unhealthy: int = Field(default=2, ge=1, le=10, description="failures in a row to become unhealthy")
    matcher: str = Field(default="200-399", description="statuses that pass: `200`, `200-399`, `200,302`")

    @field_validator("matcher")
    @classmethod
    def _status_codes(cls, matcher: str) -> str:
        if not re.fullmatch(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", matcher.replace(" ", "")):
            raise ValueError(f"{matcher!r} is not a status matcher like 200 or 200-399 or 200,302")
        return matcher


class TargetGroup(Model):
    """Where forwarded requests go; with no healthy target the group fails open to all."""

    targets: list[HostPortField] = Field(min_length=1, description="the app servers")
    protocol: Literal["http", "https"] = Field(default="http", description="protocol to the targets")
    health_check: HealthCheck | None = Field(
        default=HealthCheck(), description="null disables checks (targets count as healthy)"
    )
    algorithm: Literal["round_robin", "least_outstanding"] = Field(
        default="round_robin", description="how a target is picked"
    )
    connect_timeout: Duration = Field(default=2.0, description="TCP connect timeout (then 502)")
    read_timeout: Duration = Field(default=30.0, description="longest wait for response bytes (then 504)")
    websocket_idle_timeout: Duration = Field(
        default=600.0, gt=0, description="a WebSocket tunnel with no byte either way for this long is closed"
    )


class HttpLimits(Model):
    """Limits on what viewers may send; each rejection is answered once and the connection closed."""

    # The defaults are the HTTP engine's own (http.limits), so a server built without a config
    # enforces the same limits.
    max_header_bytes: int = Field(
        default=DEFAULT_LIMITS.max_header_bytes, ge=1024, description="larger heads get 431"
    )
    max_header_count: int = Field(
        default=DEFAULT_LIMITS.max_header_count, ge=8, description="more header fields get 431"
    )
    max_uri_bytes: int = Field(
        default=DEFAULT_LIMITS.max_uri_bytes, ge=256, description="longer request targets get 414"
    )
    max_body_bytes: int = Field(
        default=DEFAULT_LIMITS.max_body_bytes, ge=0, description="larger bodies get 413"
    )
    header_timeout: Duration = Field(
        default=DEFAULT_LIMITS.header_timeout, description="time to send a request head (then 408)"
    )
    keepalive_timeout: Duration = Field(
        default=DEFAULT_LIMITS.keepalive_timeout, description="idle time between requests"
    )
    body_timeout: Duration = Field(
        default=DEFAULT_LIMITS.body_timeout, description="longest stall while a body is sent"
    )


class GateConfig(Model):
    """The origin gate in front of the app: HTTPS listeners, rules, target groups."""

    listeners: list[Listener] = Field(min_length=1, description="listening addresses with their rules")
    target_groups: dict[str, TargetGroup] = Field(default={}, description="by name, for `forward`")
    admin: HostPortField | None = Field(
        default=None, description="admin API: `/metrics`, `/healthz`, `/targets`"
    )
    access_log: str | None = Field(default="-", description="JSON lines: a path, `-` (stdout) or null")
    strip_matched_secret: bool = Field(
        default=True, description="remove the secret headers before the target sees the request"
    )
    workers: int | Literal["auto"] = Field(
        default=1,
        description="processes sharing the ports (SO_REUSEPORT); worker i's admin is the admin port + i",
    )
    # The port a plain-HTTP listener would use; `verify` and `up` prove nothing listens there.
    http_probe_port: int = Field(
        default=80, ge=1, le=65535, description="the port `verify` and `up` prove closed"
    )
    limits: HttpLimits = Field(default=HttpLimits(), description="viewer-side HTTP limits")

    @model_validator(mode="after")
    def _targets_exist(self) -> GateConfig:
        for li, listener in enumerate(self.listeners):
            actions = [("default_action", listener.default_action)]
            actions += [(f"rules[{ri}].actions[0]", r.actions[0]) for ri, r in enumerate(listener.rules)]
            for where, action in actions:
                if action.forward is None:
                    continue
                names = [action.forward.target_group] if action.forward.target_group else []
                names += [g.name for g in action.forward.target_groups or []]
                for name in names:
                    if name not in self.target_groups:
                        raise ValueError(
                            f"listeners[{li}].{where}: target group {name!r} is not defined under "
                            f"gate.target_groups (defined: {sorted(self.target_groups) or 'none'})"
                        )
        return self
