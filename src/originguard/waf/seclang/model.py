# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""The compiled form of a rule set: frozen plain objects the phase loop reads, built once at load.

A `Rule` is a chain of `Link`s (a rule without `chain` has one). Markers and `skipAfter` targets are
resolved to indices into the phase's rule list, so the request path never searches by name.
"""

from __future__ import annotations

from typing import Any, Final, Literal, NamedTuple

Disruptive = Literal["pass", "deny", "drop", "allow", "redirect", "block"]
# Targets whose values change while a phase runs (setvar, matches): never cached.
DYNAMIC_COLLECTIONS: Final = frozenset(
    {
        "TX",
        "IP",
        "GLOBAL",
        "SESSION",
        "USER",
        "RESOURCE",
        "MATCHED_VAR",
        "MATCHED_VAR_NAME",
        "MATCHED_VARS",
        "MATCHED_VARS_NAMES",
        "RULE",
        "REQBODY_PROCESSOR",
        "HIGHEST_SEVERITY",
    }
)
SEVERITIES: Final = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")


class VarSpec(NamedTuple):
    """One compiled target: `ARGS`, `ARGS:id`, `REQUEST_COOKIES:/^_ga/`, `&TX:x` or an exclusion."""

    collection: str  # upper-case, e.g. "ARGS"
    key: bytes | None  # selector, lower-cased for the case-insensitive collections; None: all
    key_regex: Any  # variables.KeyPattern for a /regex/ selector, else None
    counting: bool
    negated: bool
    text: str  # as written, without "!" / "&"


class SetVar(NamedTuple):
    """`setvar:tx.name=value` (op "="), `=+`, `=-` or `!tx.name` (op "!")."""

    collection: str  # lower-case, "tx" or "ip"
    name: str  # lower-case, may hold a macro
    op: Literal["=", "+", "-", "!"]
    value: str  # macro template


class Ctl(NamedTuple):
    """`ctl:name=value`; for the target removals `ids` / `tag` and `target` are split out."""

    name: str
    value: str
    target: VarSpec | None


class Link:
    """One SecRule of a chain: targets, transforms, operator and the actions it carries."""

    __slots__ = (
        "capture",
        "chain_id",
        "ctls",
        "exclusions",
        "logdata",
        "msg",
        "multi_match",
        "op_dynamic",
        "op_name",
        "op_negated",
        "op_param",
        "operator",
        "prefilter_key",
        "setvars",
        "severity",
        "static_targets",
        "target_key",
        "transforms",
        "variables",
    )

    def __init__(self) -> None:
        self.variables: tuple[VarSpec, ...] = ()
        self.exclusions: tuple[VarSpec, ...] = ()
        self.target_key = 0  # links with equal (variables, exclusions) share one id
        self.static_targets = False  # only request collections: resolved once per phase data
        self.transforms: tuple[str, ...] = ()
        self.chain_id = 0  # index into RuleSet.chains
        self.op_name = "@unconditionalMatch"
        self.op_param = ""
        self.op_negated = False
        self.op_dynamic = False  # the parameter holds %{...}: built per evaluation
        self.operator: Any = None
        self.prefilter_key = -1  # >= 0: a candidate key of the prefilter, the rule is skipped unless hit
        self.multi_match = False
        self.capture = False
        self.setvars: tuple[SetVar, ...] = ()
        self.ctls: tuple[Ctl, ...] = ()
        self.msg: str | None = None
        self.logdata: str | None = None
        self.severity: str | None = None


class Rule:
    """A rule (or SecAction, or SecMarker) in a phase, with what happens after its chain matched."""

    __slots__ = (
        "disruptive",
        "file",
        "index",
        "is_marker",
        "line",
        "links",
        "log",
        "marker",
        "phase",
        "prunable",
        "quick",
        "redirect",
        "rule_id",
        "skip",
        "skip_after",
        "skip_after_index",
        "status",
        "tags",
        "tx_simple",
        "tx_test",
    )

    def __init__(self, file: str, line: int) -> None:
        self.file = file
        self.line = line
        self.rule_id = 0
        self.phase = 2
        self.links: list[Link] = []
        self.disruptive: Disruptive | None = None  # None: the phase's SecDefaultAction decides
        self.status: int | None = None
        self.redirect = ""
        self.log: bool | None = None  # None: the default action decides
        self.tags: tuple[str, ...] = ()
        self.skip = 0
        self.skip_after = ""
        self.skip_after_index = -1
        self.is_marker = False
        self.marker = ""
        self.index = 0  # position in its phase
        # (candidate group, prefilter key) of the first link when a miss there means no match:
        # the phase loop then skips the rule with one dict lookup and one set test.
        self.quick: tuple[tuple[int, int, bool], int] | None = None
        # (TX key, counting, operator) when the first link tests one TX variable untransformed
        # (CRS's paranoia-level and setting checks, ~100 per request): tested inline.
        self.tx_test: tuple[bytes, bool, Any] | None = None
        self.tx_simple = False  # and the rule is that one test alone, with no actions to run
        # `quick`, and the first link's targets are plain entries of request collections and
        # scalars (no counting): a key no value of the phase matches rules the rule out at once.
        self.prunable = False


class Settings(NamedTuple):
    """The engine-wide directives (SecRuleEngine, body access and limits, ...)."""

    rule_engine: Literal["On", "Off", "DetectionOnly"] = "On"
    request_body_access: bool = False
    response_body_access: bool = False
    request_body_limit: int = 13_107_200
    request_body_no_files_limit: int = 131_072
    request_body_limit_action: Literal["Reject", "ProcessPartial"] = "Reject"
    response_body_limit: int = 524_288
    response_body_limit_action: Literal["Reject", "ProcessPartial"] = "ProcessPartial"
    response_body_mime_types: tuple[bytes, ...] = (b"text/plain", b"text/html")
    argument_separator: bytes = b"&"
    component_signatures: tuple[str, ...] = ()
