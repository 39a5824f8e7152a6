"""Config models of the WAF: web ACLs, rules, statements, fields to match and text transformations.

A statement is a mapping with exactly one key naming its kind, as in the cloud WAF's JSON:

    {sqli: {field: query}}
    {byte_match: {field: {header: user-agent}, search: sqlmap, position: contains}}
    {and: [{ip_set: {cidrs: [10.0.0.0/8]}}, {not: {geo_match: {countries: [DE]}}}]}
    {managed: {name: core, overrides: {bad-user-agent: count}, excluded: [rfi]}}

`rate_based` and `managed` are top-level only (as in the cloud WAF), so each counts or expands once.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import re2
from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from originguard.config.values import Cidr, Duration, Model

# fmt: off
Transform = Literal[
    "url_decode", "url_decode_uni", "lowercase", "html_entity_decode",
    "compress_white_space", "remove_nulls", "normalize_path", "base64_decode",
    "cmd_line", "replace_comments", "js_decode",
]
# fmt: on
# fmt: off
SimpleField = Literal[
    "method", "path", "query", "all_query_args", "all_headers",
    "header_names", "cookies", "body", "json_body", "json_keys",
    "json_values",
]
# fmt: on
Oversize = Literal["continue", "match", "no_match"]
RuleAction = Literal["allow", "block", "count"]

# The rules of the built-in `core` group; waf.managed defines them and asserts it matches this list.
# fmt: off
CORE_RULE_NAMES: tuple[str, ...] = (
    "sqli-args", "sqli-body", "sqli-cookies", "xss-args", "xss-body",
    "path-traversal", "rfi", "cmd-injection", "bad-user-agent", "log4j-jndi",
)
# fmt: on


class HeaderField(Model):
    """`{header: NAME}`: the values of one header (name case-insensitive)."""

    header: str = Field(min_length=1)

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class QueryArgField(Model):
    """`{query_arg: NAME}`: the values of one query argument (name case-insensitive, as in the cloud WAF)."""

    query_arg: str = Field(min_length=1)


FieldToMatch = SimpleField | HeaderField | QueryArgField


class FieldStatement(Model):
    """Common part of statements that inspect a request field after text transformations."""

    field: FieldToMatch
    transforms: list[Transform] = []
    oversize: Oversize = "continue"


class ByteMatch(FieldStatement):
    search: str = Field(min_length=1, max_length=200)
    position: Literal["exactly", "starts_with", "ends_with", "contains", "contains_word"] = "contains"


class RegexMatch(FieldStatement):
    pattern: str = Field(min_length=1, max_length=4096)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        options = re2.Options()
        options.log_errors = False  # the error goes into the config message, not to stderr
        try:
            re2.compile(value, options)
        except re2.error as exc:
            raise ValueError(f"not a valid RE2 regular expression: {exc}") from None
        return value


class SizeConstraint(FieldStatement):
    op: Literal["eq", "ne", "le", "lt", "ge", "gt"]
    size: int = Field(ge=0)


class SqliMatch(FieldStatement):
    # Detectors see what the application sees, so they decode by default (the cloud WAF makes you ask).
    transforms: list[Transform] = ["url_decode_uni", "html_entity_decode"]
    sensitivity: Literal["low", "high"] = "low"


class XssMatch(FieldStatement):
    transforms: list[Transform] = ["url_decode_uni", "html_entity_decode"]


class ForwardedIp(Model):
    """Take the client address from a header (behind a trusted proxy) instead of the peer address."""

    header: str = "x-forwarded-for"
    position: Literal["first", "last", "any"] = "first"
    fallback: Literal["match", "no_match"] = "no_match"

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class IpSetMatch(Model):
    cidrs: list[Cidr]
    forwarded_ip: ForwardedIp | None = None


class GeoMatch(Model):
    countries: list[str] = Field(min_length=1)
    forwarded_ip: ForwardedIp | None = None

    @field_validator("countries")
    @classmethod
    def _alpha2(cls, value: list[str]) -> list[str]:
        upper = [c.upper() for c in value]
        bad = [c for c in upper if len(c) != 2 or not c.isalpha() or not c.isascii()]
        if bad:
            raise ValueError(f"country codes are ISO 3166 alpha-2 (like DE, US); not {bad}")
        return upper


RateKey = Literal["ip", "forwarded_ip", "path", "method", "constant"] | HeaderField


class RateBased(Model):
    limit: int = Field(ge=1)
    window: Duration = 300.0
    keys: list[RateKey] = Field(default=["ip"], min_length=1)
    forwarded_ip: ForwardedIp | None = None
    scope_down: Statement | None = None

    @field_validator("window")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("the window must be longer than 0s")
        return value


class LabelMatch(Model):
    label: str = Field(min_length=1)
    scope: Literal["label", "namespace"] = "label"


class ManagedGroup(Model):
    name: Literal["core"]
    overrides: dict[str, RuleAction] = {}
    excluded: list[str] = []

    @model_validator(mode="after")
    def _known_rules(self) -> ManagedGroup:
        unknown = sorted((set(self.overrides) | set(self.excluded)) - set(CORE_RULE_NAMES))
        if unknown:
            raise ValueError(f"group core has no rules {unknown}; its rules are {list(CORE_RULE_NAMES)}")
        return self


class ByteMatchStatement(Model):
    kind: ClassVar[str] = "byte_match"
    byte_match: ByteMatch


class RegexMatchStatement(Model):
    kind: ClassVar[str] = "regex_match"
    regex_match: RegexMatch


class SizeConstraintStatement(Model):
    kind: ClassVar[str] = "size_constraint"
    size_constraint: SizeConstraint


class SqliStatement(Model):
    kind: ClassVar[str] = "sqli"
    sqli: SqliMatch


class XssStatement(Model):
    kind: ClassVar[str] = "xss"
    xss: XssMatch


class IpSetStatement(Model):
    kind: ClassVar[str] = "ip_set"
    ip_set: IpSetMatch


class GeoMatchStatement(Model):
    kind: ClassVar[str] = "geo_match"
    geo_match: GeoMatch


class RateBasedStatement(Model):
    kind: ClassVar[str] = "rate_based"
    rate_based: RateBased


class LabelMatchStatement(Model):
    kind: ClassVar[str] = "label_match"
    label_match: LabelMatch


class ManagedStatement(Model):
    kind: ClassVar[str] = "managed"
    managed: ManagedGroup


class AndStatement(Model):
    kind: ClassVar[str] = "and"
    and_: list[Statement] = Field(alias="and", min_length=1)


class OrStatement(Model):
    kind: ClassVar[str] = "or"
    or_: list[Statement] = Field(alias="or", min_length=1)


class NotStatement(Model):
    kind: ClassVar[str] = "not"
    not_: Statement = Field(alias="not")


_KINDS = (
    "byte_match, regex_match, size_constraint, sqli, xss, ip_set, geo_match, rate_based, label_match, "
    "managed, and, or, not"
)


def _statement_kind(value: Any) -> str | None:
    """The one key of a statement mapping (or the kind of a model), which picks its model."""
    if isinstance(value, dict):
        return next(iter(value)) if len(value) == 1 else None
    kind = getattr(value, "kind", None)
    return kind if isinstance(kind, str) else None


Statement = Annotated[
    Annotated[ByteMatchStatement, Tag("byte_match")]
    | Annotated[RegexMatchStatement, Tag("regex_match")]
    | Annotated[SizeConstraintStatement, Tag("size_constraint")]
    | Annotated[SqliStatement, Tag("sqli")]
    | Annotated[XssStatement, Tag("xss")]
    | Annotated[IpSetStatement, Tag("ip_set")]
    | Annotated[GeoMatchStatement, Tag("geo_match")]
    | Annotated[RateBasedStatement, Tag("rate_based")]
    | Annotated[LabelMatchStatement, Tag("label_match")]
    | Annotated[ManagedStatement, Tag("managed")]
    | Annotated[AndStatement, Tag("and")]
    | Annotated[OrStatement, Tag("or")]
    | Annotated[NotStatement, Tag("not")],
    Discriminator(
        _statement_kind,
        custom_error_type="statement_kind",
        custom_error_message=f"a statement is a mapping with exactly one key, one of: {_KINDS}",
    ),
]


class BlockResponse(Model):
    """What a blocked viewer gets; the default is a plain 403."""

    status: int = Field(default=403, ge=200, le=599)
    headers: dict[str, str] = {}
    body: str = "Forbidden\n"


class WafRule(Model):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    priority: int = Field(ge=0)
    action: RuleAction
    statement: Statement
    labels: list[str] = []
    response: BlockResponse | None = None

    @model_validator(mode="after")
    def _response_needs_block(self) -> WafRule:
        if self.response is not None and self.action != "block":
            raise ValueError("a custom response is only for action: block")
        if isinstance(self.statement, ManagedStatement) and self.action == "allow":
            raise ValueError("a managed group rule uses action block (its rules decide) or count (all count)")
        for child in _children(self.statement):
            if isinstance(child, (RateBasedStatement, ManagedStatement)):
                raise ValueError(f"{child.kind} is only allowed as the rule's top-level statement")
        return self


class WebAclConfig(Model):
    default_action: Literal["allow", "block"] = "allow"
    rules: list[WafRule] = []
    body_inspection_kib: int = Field(default=16, ge=1, le=1024)
    block_response: BlockResponse = BlockResponse()

    @model_validator(mode="after")
    def _unique(self) -> WebAclConfig:
        for attr in ("name", "priority"):
            seen = [getattr(r, attr) for r in self.rules]
            dupes = sorted({v for v in seen if seen.count(v) > 1})
            if dupes:
                raise ValueError(f"rule {attr}s must be unique; repeated: {dupes}")
        return self


class WafConfig(Model):
    web_acls: dict[str, WebAclConfig] = {}
    # A CSV of `cidr,CC` lines that replaces the small bundled table (see waf.geo).
    geo_table: str | None = None


def _children(statement: Statement) -> list[Statement]:
    """Every statement nested below `statement` (not itself), for top-level-only checks."""
    direct: list[Statement]
    if isinstance(statement, AndStatement):
        direct = list(statement.and_)
    elif isinstance(statement, OrStatement):
        direct = list(statement.or_)
    elif isinstance(statement, NotStatement):
        direct = [statement.not_]
    elif isinstance(statement, RateBasedStatement) and statement.rate_based.scope_down is not None:
        direct = [statement.rate_based.scope_down]
    else:
        direct = []
    found = list(direct)
    for child in direct:
        found.extend(_children(child))
    return found


for _model in (RateBased, AndStatement, OrStatement, NotStatement, WafRule):
    _model.model_rebuild()
