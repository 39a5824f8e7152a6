# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What evaluating a web ACL gives: a verdict, and the prebuilt reply of a blocked request.

Below both `compile` (which prebuilds replies and default verdicts) and `evaluate` (which returns
verdicts), so neither has to import the other for these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class BlockReply:
    """The response a blocked request gets, prebuilt: status, headers, body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Action(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a request and why: the rule, the field and value that matched, the labels."""

    action: Action
    rule: str | None
    labels: tuple[str, ...]
    counted: tuple[str, ...]
    field: str | None
    value: str | None
    reason: str
    response: BlockReply | None
    crs: Any = None  # a waf.crs_match.CrsFinding when the deciding rule is an OWASP CRS group

    @property
    def blocked(self) -> bool:
        """True when the request must not reach the origin."""
        return self.action is Action.BLOCK
