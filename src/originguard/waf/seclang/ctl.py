"""`ctl:` actions at run time: they change this transaction only, from the next rule on."""

from __future__ import annotations

from typing import Literal, Protocol

from originguard.waf.seclang.model import VarSpec
from originguard.waf.seclang.reqvars import VarStore

_MODES = {"on": "On", "off": "Off", "detectiononly": "DetectionOnly"}


class CtlTarget(Protocol):
    """What ctl actions change in a transaction (runtime.TransactionState)."""

    removed_any: bool
    removed_ranges: list[tuple[int, int]]
    removed_tags: set[str]
    removed_msgs: set[str]
    target_exclusions: dict[int, list[VarSpec]]
    tag_exclusions: dict[str, list[VarSpec]]
    mode: Literal["On", "Off", "DetectionOnly"]
    processor: str | None
    body_access: bool
    store: VarStore


def apply_ctl(tx: CtlTarget, name: str, value: str, target: VarSpec | None) -> None:
    """Apply one ctl action (validated at load) to `tx`."""
    if name == "ruleRemoveById":
        for part in value.replace(",", " ").split():
            lo, _, hi = part.partition("-")
            tx.removed_ranges.append((int(lo), int(hi or lo)))
        tx.removed_any = True
    elif name == "ruleRemoveByTag":
        tx.removed_tags.add(value)
        tx.removed_any = True
    elif name == "ruleRemoveByMsg":
        tx.removed_msgs.add(value)
        tx.removed_any = True
    elif name == "ruleRemoveTargetById" and target is not None:
        for part in value.replace(",", " ").split():
            lo, _, hi = part.partition("-")
            for rid in range(int(lo), int(hi or lo) + 1) if hi else (int(lo),):
                tx.target_exclusions.setdefault(rid, []).append(target)
    elif name == "ruleRemoveTargetByTag" and target is not None:
        tx.tag_exclusions.setdefault(value, []).append(target)
    elif name == "ruleEngine":
        tx.mode = _MODES[value.lower()]  # type: ignore[assignment]
    elif name == "requestBodyProcessor":
        tx.processor = value.upper()
        tx.store.scalars["REQBODY_PROCESSOR"] = tx.processor.encode()
    elif name == "requestBodyAccess":
        tx.body_access = value.lower() == "on"
    # forceRequestBodyVariable: REQUEST_BODY is always filled here (as in ModSecurity v3);
    # responseBodyAccess, auditEngine, auditLogParts: no audit log, response access is a setting.
