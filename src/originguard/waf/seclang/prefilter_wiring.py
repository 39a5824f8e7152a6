"""Wiring of the multi-pattern prefilter (ops' prefilter.py) into a compiled rule set.

One prefilter over every positive @rx/@pm/@pmFromFile of the set; a rule is keyed by its link. The
engine scans each distinct transformed value once per transaction; a keyed link whose key is not
among the value's candidates cannot match it and is skipped without running its operator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from originguard.waf.seclang.engine import RuleSet


def wire(ruleset: RuleSet) -> Any:
    """The prefilter of `ruleset`, or None while no prefilter is available."""
    return None
