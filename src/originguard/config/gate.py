"""Config models of the origin gate: listeners, rules (conditions + actions) and target groups.

Names and semantics follow the cloud application load balancer: conditions are ANDed across types,
values within one condition are ORed; rules run by ascending priority; the default action runs last.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from originguard.config.values import Cidr, Duration, HostPortField, Model, SecretRef

HeaderValue = str | SecretRef

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class HttpHeaderCondition(Model):
    name: str
    values: list[HeaderValue] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _token(cls, name: str) -> str:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() == "host":
            raise ValueError("use host_header for Host, not http_header")
        return name


class ValuesCondition(Model):
    values: list[str] = Field(min_length=1)


class MethodCondition(Model):
    values: list[str] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _methods(cls, values: list[str]) -> list[str]:
        for method in values:
            if not re.fullmatch(r"[A-Z_-]{1,40}", method):
                raise ValueError(f"{method!r}: methods are upper case A-Z, '-' or '_' (matched exactly)")
        return values


class QueryPair(Model):
    key: str | None = None
    value: str


class QueryStringCondition(Model):
    values: list[QueryPair] = Field(min_length=1)


class SourceIpCondition(Model):
    values: list[Cidr] = Field(min_length=1)


class Condition(Model):
    """Exactly one condition type per list entry."""

    http_header: HttpHeaderCondition | None = None
    host_header: ValuesCondition | None = None
    path_pattern: ValuesCondition | None = None
    http_request_method: MethodCondition | None = None
    query_string: QueryStringCondition | None = None
    source_ip: SourceIpCondition | None = None

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
    name: str
    weight: int = Field(default=1, ge=0, le=999)


class ForwardAction(Model):
    target_group: str | None = None
    target_groups: list[WeightedTargetGroup] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ForwardAction:
        if (self.target_group is None) == (self.target_groups is None):
            raise ValueError("give exactly one of target_group or target_groups")
        if self.target_groups is not None and not any(g.weight for g in self.target_groups):
            raise ValueError("at least one weighted target group needs a weight above 0")
        return self


class FixedResponseAction(Model):
    status: int = Field(default=403, ge=200, le=599)
    content_type: str = "text/plain"
    body: str = Field(default="Forbidden", max_length=1024)


class RedirectAction(Model):
    protocol: str = "#{protocol}"
    host: str = "#{host}"
    port: str = "#{port}"
    path: str = "/#{path}"
    query: str = "#{query}"
    status_code: Literal[301, 302] = 301


class Action(Model):
    forward: ForwardAction | None = None
    fixed_response: FixedResponseAction | None = None
    redirect: RedirectAction | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                f"each action needs exactly one of forward, fixed_response, redirect (got {given})"
            )
        return self


class ListenerRule(Model):
    priority: int = Field(ge=1, le=50000)
    conditions: list[Condition] = Field(min_length=1)
    actions: list[Action] = Field(min_length=1, max_length=1)


class TlsFiles(Model):
    certificate: str
    key: str


class Listener(Model):
    port: HostPortField
    protocol: Literal["https", "http"] = "https"
    tls: TlsFiles | None = None
    default_action: Action = Action(fixed_response=FixedResponseAction())
    rules: list[ListenerRule] = []
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
    protocol: Literal["http", "https", "tcp"] = "http"
    path: str = "/healthz"
    interval: Duration = 5.0
    timeout: Duration = 2.0
    healthy: int = Field(default=2, ge=1, le=10)
    unhealthy: int = Field(default=2, ge=1, le=10)
    matcher: str = "200-399"

    @field_validator("matcher")
    @classmethod
    def _status_codes(cls, matcher: str) -> str:
        if not re.fullmatch(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", matcher.replace(" ", "")):
            raise ValueError(f"{matcher!r} is not a status matcher like 200 or 200-399 or 200,302")
        return matcher


class TargetGroup(Model):
    targets: list[HostPortField] = Field(min_length=1)
    protocol: Literal["http", "https"] = "http"
    health_check: HealthCheck | None = HealthCheck()
    algorithm: Literal["round_robin", "least_outstanding"] = "round_robin"
    connect_timeout: Duration = 2.0
    read_timeout: Duration = 30.0


class HttpLimits(Model):
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_header_count: int = Field(default=100, ge=8)
    max_uri_bytes: int = Field(default=8 * 1024, ge=256)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    header_timeout: Duration = 10.0
    keepalive_timeout: Duration = 60.0
    body_timeout: Duration = 30.0


class GateConfig(Model):
    listeners: list[Listener] = Field(min_length=1)
    target_groups: dict[str, TargetGroup] = {}
    admin: HostPortField | None = None
    access_log: str | None = "-"
    strip_matched_secret: bool = True
    workers: int | Literal["auto"] = Field(default=1)
    # The port a plain-HTTP listener would use; `verify` and `up` prove nothing listens there.
    http_probe_port: int = Field(default=80, ge=1, le=65535)
    limits: HttpLimits = HttpLimits()

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
