"""Config of the managed group `owasp-crs`: the OWASP Core Rule Set run by our SecLang engine.

    {managed: {name: owasp-crs, paranoia_level: 1, anomaly_threshold: 5,
               exclusions: [{remove_rule: 942100},
                            {remove_target: {rule: 942100, target: "ARGS:q"}, path_prefix: /search}]}}

The rule using the group decides the mode: `block` runs CRS with `SecRuleEngine On`, `count` with
`DetectionOnly`. Exclusions become SecLang (waf.crs_setup); the files themselves are loaded when the
ACL compiles, where a bad directive becomes a config error naming its file and line.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from originguard.config.values import Model

# Variables a target exclusion may name: a collection, optionally `:selector` or `:/regex/`.
_TARGET = re.compile(r"^[A-Z_]+(?::(?:/[^/]+/|[^\s,|\"']+))?$")


class RemoveTarget(Model):
    """One variable a rule no longer inspects (CRS's `SecRuleUpdateTargetById ID "!TARGET"`)."""

    rule: int = Field(ge=1, description="the CRS rule id, e.g. 942100")
    target: str = Field(description="the variable to drop, e.g. `ARGS:q`, `REQUEST_COOKIES:/^sess_/`")

    @field_validator("target")
    @classmethod
    def _variable(cls, value: str) -> str:
        if not _TARGET.match(value):
            raise ValueError(
                f"target {value!r} is not a SecLang variable like ARGS:q, REQUEST_HEADERS:User-Agent "
                "or REQUEST_COOKIES:/^sess_/"
            )
        return value


class CrsExclusion(Model):
    """One tuning of CRS: remove a rule, a tag's rules or one variable of a rule, maybe only under a path."""

    remove_rule: int | None = Field(default=None, ge=1, description="a CRS rule id that does not run")
    remove_tag: str | None = Field(
        default=None, min_length=1, description="rules with this tag do not run, e.g. `attack-sqli`"
    )
    remove_target: RemoveTarget | None = Field(default=None, description="a rule skips one variable")
    path_prefix: str | None = Field(
        default=None,
        description="only for requests whose path starts with this (a runtime `ctl:` rule); else everywhere",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> CrsExclusion:
        chosen = [self.remove_rule, self.remove_tag, self.remove_target]
        if sum(item is not None for item in chosen) != 1:
            raise ValueError("an exclusion has exactly one of remove_rule, remove_tag, remove_target")
        if self.remove_tag is not None and not re.fullmatch(r"[\w./:-]+", self.remove_tag):
            raise ValueError(f"tag {self.remove_tag!r} may hold letters, digits and . / : - _ only")
        if self.path_prefix is not None and (
            not self.path_prefix.startswith("/") or re.search(r"[\s\"'\\]", self.path_prefix)
        ):
            raise ValueError("path_prefix starts with / and holds no spaces, quotes or backslashes")
        return self


class ResponseInspection(Model):
    """The RESPONSE-95x rules (data leakage, web shells) run on origin responses when the cache fills."""

    enabled: bool = Field(default=True, description="inspect origin responses at fill, before storing")
    max_body: int = Field(
        default=256 * 1024, ge=1, le=16 * 1024 * 1024, description="bytes of a response body inspected"
    )


class CrsGroup(Model):
    """The OWASP Core Rule Set (4.28 bundled; a CRS 3.3 or 4.x copy through `rules_dir`)."""

    name: Literal["owasp-crs"] = Field(description="the OWASP Core Rule Set (see docs/waf.md)")
    paranoia_level: int = Field(default=1, ge=1, le=4, description="blocking paranoia level, 1-4")
    detection_paranoia_level: int | None = Field(
        default=None, ge=1, le=4, description="rules up to this level run and log without scoring a block"
    )
    anomaly_threshold: int = Field(default=5, ge=1, description="inbound anomaly score that blocks")
    outbound_anomaly_threshold: int = Field(default=4, ge=1, description="outbound score that blocks")
    rules_dir: str | None = Field(
        default=None,
        description="a directory of `*.conf` rules and `*.data` files (default: the bundled CRS 4.28)",
    )
    setup_file: str | None = Field(
        default=None,
        description="a crs-setup.conf loaded before the rules (default: the bundled example)",
    )
    exclusions: list[CrsExclusion] = Field(default=[], description="rules, tags or targets removed")
    response_inspection: ResponseInspection = Field(
        default=ResponseInspection(), description="RESPONSE-95x rules at cache fill"
    )
    log_matched_data: bool = Field(
        default=False, description="block logs show the matched text (truncated, never a secret header's)"
    )
    verdict_memo: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="identical requests reuse a verdict: entries kept (0 = off)",
    )

    @model_validator(mode="after")
    def _levels(self) -> CrsGroup:
        detection = self.detection_paranoia_level
        if detection is not None and detection < self.paranoia_level:
            raise ValueError("detection_paranoia_level is at least paranoia_level")
        return self
