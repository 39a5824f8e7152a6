"""Config models of the WAF: web ACLs, rules, statements, fields to match and text transformations.

A statement is a mapping with exactly one key naming its kind, as in the cloud WAF's JSON:

    {sqli: {field: query}}
    {byte_match: {field: {header: user-agent}, search: sqlmap, position: contains}}
    {and: [{ip_set: {cidrs: [10.0.0.0/8]}}, {not: {geo_match: {countries: [DE]}}}]}
    {managed: {name: owasp-crs, paranoia_level: 1, exclusions: [{remove_rule: 942100}]}}

`rate_based` and `managed` are top-level only (as in the cloud WAF), so each counts or expands once.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import re2
from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from originguard.config.crs import CrsGroup
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

# The home-made `core` group was retired for the OWASP CRS (issue 17): it blocked 151 of the 945
# paranoia-level-1 attacks of CRS 4.28's regression suite. A config naming it gets this, not a guess.
RETIRED_CORE = (
    "the built-in `core` group was retired: use `{managed: {name: owasp-crs}}` (the OWASP Core Rule "
    "Set; docs/waf.md lists which CRS rules replace each `core` rule, and how to tune them)"
)


class HeaderField(Model):
    """`{header: NAME}`: the values of one header (name case-insensitive)."""

    header: str = Field(min_length=1, description="header name")

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class QueryArgField(Model):
    """`{query_arg: NAME}`: the values of one query argument (name case-insensitive, as in the cloud WAF)."""

    query_arg: str = Field(min_length=1, description="query argument name")


FieldToMatch = SimpleField | HeaderField | QueryArgField


class FieldStatement(Model):
    """Common part of statements that inspect a request field after text transformations."""

    field: FieldToMatch = Field(description="the part of the request inspected")
    transforms: list[Transform] = Field(default=[], description="text transformations, applied in order")
    oversize: Oversize = Field(
        default="continue",
        description="a body over `body_inspection_kib`: inspect the first part, or count as (no) match",
    )


class ByteMatch(FieldStatement):
    """Looks for a text in a field, after its transformations."""

    search: str = Field(min_length=1, max_length=200, description="the text looked for")
    position: Literal["exactly", "starts_with", "ends_with", "contains", "contains_word"] = Field(
        default="contains", description="where in the field it must be"
    )


class RegexMatch(FieldStatement):
    """Matches a field, after its transformations, against an RE2 expression."""

    pattern: str = Field(min_length=1, max_length=4096, description="an RE2 regular expression (linear time)")

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
    """Compares the size of a field, after its transformations."""

    op: Literal["eq", "ne", "le", "lt", "ge", "gt"] = Field(description="comparison of the field's size")
    size: int = Field(ge=0, description="bytes, after transformations")


class SqliMatch(FieldStatement):
    """A tokenising SQL injection detector; each argument is judged separately."""

    # Detectors see what the application sees, so they decode by default (the cloud WAF makes you ask).
    transforms: list[Transform] = Field(
        default=["url_decode_uni", "html_entity_decode"], description="text transformations, applied in order"
    )
    sensitivity: Literal["low", "high"] = Field(default="low", description="`high` flags more shapes")


class XssMatch(FieldStatement):
    """A tokenising cross-site scripting detector; each argument is judged separately."""

    transforms: list[Transform] = Field(
        default=["url_decode_uni", "html_entity_decode"], description="text transformations, applied in order"
    )


class ForwardedIp(Model):
    """Take the client address from a header (behind a trusted proxy) instead of the peer address."""

    header: str = Field(default="x-forwarded-for", description="header holding the client address")
    position: Literal["first", "last", "any"] = Field(
        default="first", description="which address of a list counts"
    )
    fallback: Literal["match", "no_match"] = Field(
        default="no_match", description="result when the header is absent or not an address"
    )

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class IpSetMatch(Model):
    """The client address in a set of CIDRs (any size costs the same per lookup)."""

    cidrs: list[Cidr] = Field(description="IPv4 and IPv6 CIDRs")
    forwarded_ip: ForwardedIp | None = Field(
        default=None, description="match a header's address instead of the peer's"
    )


class GeoMatch(Model):
    """The client address located in one of these countries."""

    countries: list[str] = Field(min_length=1, description="ISO 3166 alpha-2 codes (`geo_table` decides)")
    forwarded_ip: ForwardedIp | None = Field(
        default=None, description="locate a header's address instead of the peer's"
    )

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
    """Counts requests per key over a sliding window (shared through `cluster.redis` when set)."""

    limit: int = Field(ge=1, description="requests per window and key above which the rule matches")
    window: Duration = Field(default=300.0, description="the counting window")
    keys: list[RateKey] = Field(default=["ip"], min_length=1, description="what requests are counted by")
    forwarded_ip: ForwardedIp | None = Field(
        default=None, description="how `forwarded_ip` keys read the client address"
    )
    scope_down: Statement | None = Field(default=None, description="count only requests this matches")

    @field_validator("window")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("the window must be longer than 0s")
        return value


class LabelMatch(Model):
    """A label an earlier (lower priority) rule added."""

    label: str = Field(min_length=1, description="a label added by an earlier rule (`ns:name`)")
    scope: Literal["label", "namespace"] = Field(
        default="label", description="the exact label, or any label under a namespace prefix"
    )


class ByteMatchStatement(Model):
    kind: ClassVar[str] = "byte_match"
    byte_match: ByteMatch = Field(description="a field contains, starts with, ends with or is a text")


class RegexMatchStatement(Model):
    kind: ClassVar[str] = "regex_match"
    regex_match: RegexMatch = Field(description="a field matches a regular expression")


class SizeConstraintStatement(Model):
    kind: ClassVar[str] = "size_constraint"
    size_constraint: SizeConstraint = Field(description="a field's size compares to a number")


class SqliStatement(Model):
    kind: ClassVar[str] = "sqli"
    sqli: SqliMatch = Field(description="SQL injection detector")


class XssStatement(Model):
    kind: ClassVar[str] = "xss"
    xss: XssMatch = Field(description="cross-site scripting detector")


class IpSetStatement(Model):
    kind: ClassVar[str] = "ip_set"
    ip_set: IpSetMatch = Field(description="the client address is in a set of CIDRs")


class GeoMatchStatement(Model):
    kind: ClassVar[str] = "geo_match"
    geo_match: GeoMatch = Field(description="the client address is in one of these countries")


class RateBasedStatement(Model):
    kind: ClassVar[str] = "rate_based"
    rate_based: RateBased = Field(description="a key sent more than `limit` requests in the window")


class LabelMatchStatement(Model):
    kind: ClassVar[str] = "label_match"
    label_match: LabelMatch = Field(description="an earlier rule added a label")


class ManagedStatement(Model):
    kind: ClassVar[str] = "managed"
    managed: CrsGroup = Field(description="a managed rule group: `owasp-crs`, the OWASP Core Rule Set")

    @field_validator("managed", mode="before")
    @classmethod
    def _not_retired(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("name") == "core":
            raise ValueError(RETIRED_CORE)
        return value


class AndStatement(Model):
    """All of a list of statements."""

    kind: ClassVar[str] = "and"
    and_: list[Statement] = Field(alias="and", min_length=1, description="every statement matches")


class OrStatement(Model):
    """Any of a list of statements."""

    kind: ClassVar[str] = "or"
    or_: list[Statement] = Field(alias="or", min_length=1, description="any statement matches")


class NotStatement(Model):
    """The opposite of a statement."""

    kind: ClassVar[str] = "not"
    not_: Statement = Field(alias="not", description="the statement does not match")


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

    status: int = Field(default=403, ge=200, le=599, description="status code")
    headers: dict[str, str] = Field(default={}, description="extra response headers")
    body: str = Field(default="Forbidden\n", description="response body")


class WafRule(Model):
    """One rule of a web ACL."""

    name: str = Field(
        min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$", description="unique in the ACL"
    )
    priority: int = Field(ge=0, description="unique in the ACL; lower runs first")
    action: RuleAction = Field(description="`allow` or `block` end evaluation; `count` records and goes on")
    statement: Statement = Field(description="a mapping with one key naming its kind")
    labels: list[str] = Field(default=[], description="added to the request when the rule matches")
    response: BlockResponse | None = Field(
        default=None, description="what `block` answers (default: the ACL's)"
    )

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
    """A web ACL: rules by priority; the first `allow` or `block` wins."""

    default_action: Literal["allow", "block"] = Field(default="allow", description="when no rule decides")
    rules: list[WafRule] = Field(default=[], description="evaluated by priority")
    body_inspection_kib: int = Field(default=16, ge=1, le=1024, description="body bytes (KiB) inspected")
    block_response: BlockResponse = Field(default=BlockResponse(), description="what a block answers")

    @model_validator(mode="after")
    def _unique(self) -> WebAclConfig:
        for attr in ("name", "priority"):
            seen = [getattr(r, attr) for r in self.rules]
            dupes = sorted({v for v in seen if seen.count(v) > 1})
            if dupes:
                raise ValueError(f"rule {attr}s must be unique; repeated: {dupes}")
        return self


class WafConfig(Model):
    """Web ACLs (see docs/waf.md)."""

    web_acls: dict[str, WebAclConfig] = Field(default={}, description="by name, for `distribution.web_acl`")
    # A CSV of `cidr,CC` lines that replaces the small bundled table (see waf.geo).
    geo_table: str | None = Field(
        default=None, description="a `cidr,CC` CSV file for `geo_match` (default: a small bundled table)"
    )


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
