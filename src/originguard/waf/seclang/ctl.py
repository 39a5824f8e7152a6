"""`ctl:` actions at run time: they change this transaction only, from the next rule on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from originguard.waf.seclang.model import VarSpec

if TYPE_CHECKING:
    from originguard.waf.seclang.runtime import TransactionState

_MODES = {"on": "On", "off": "Off", "detectiononly": "DetectionOnly"}


def apply_ctl(tx: TransactionState, name: str, value: str, target: VarSpec | None) -> None:
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
