"""Engine-wide directives (SecRuleEngine, body access, limits, ...) → `Settings`.

Directives about logs, temporary files and persistent storage we do not have are accepted only where
they cannot change a verdict (audit and debug logs, data and tmp dirs, collection timeout); the rest
is refused.
"""

from __future__ import annotations

from typing import Final, Literal

from originguard.errors import SecLangError
from originguard.waf.seclang.model import Settings
from originguard.waf.seclang.parse import Directive

# These only say where logs and files go, or how long persistent collections live (ours live one
# transaction): a verdict never depends on them.
_NO_VERDICT_EFFECT: Final = frozenset(
    {
        "SecAuditEngine",
        "SecAuditLog",
        "SecAuditLogFormat",
        "SecAuditLogParts",
        "SecAuditLogRelevantStatus",
        "SecAuditLogStorageDir",
        "SecAuditLogType",
        "SecDebugLog",
        "SecDebugLogLevel",
        "SecTmpDir",
        "SecDataDir",
        "SecCollectionTimeout",
        "SecPcreMatchLimit",  # RE2 is linear-time: no backtracking limit to set
        "SecPcreMatchLimitRecursion",
        "SecStatusEngine",
        "SecUploadDir",
        "SecUploadKeepFiles",
        "SecUploadFileMode",
        "SecTmpSaveUploadedFiles",
    }
)
_SETTINGS: Final = frozenset(
    {
        "SecRuleEngine",
        "SecRequestBodyAccess",
        "SecResponseBodyAccess",
        "SecRequestBodyLimit",
        "SecRequestBodyNoFilesLimit",
        "SecRequestBodyInMemoryLimit",
        "SecRequestBodyLimitAction",
        "SecResponseBodyLimit",
        "SecResponseBodyLimitAction",
        "SecResponseBodyMimeType",
        "SecArgumentSeparator",
    }
)


def is_setting(name: str) -> bool:
    """Whether `name` is an engine-wide directive this module knows."""
    return name in _SETTINGS or name in _NO_VERDICT_EFFECT


def apply_setting(settings: Settings, d: Directive) -> Settings:
    """`settings` with the directive applied."""
    if d.name in _NO_VERDICT_EFFECT:
        return settings
    if not d.args:
        raise SecLangError(d.file, d.line, d.text, "expects an argument")
    value = d.args[0]
    if d.name == "SecRuleEngine":
        return settings._replace(rule_engine=engine_mode(value, d))
    if d.name == "SecRequestBodyAccess":
        return settings._replace(request_body_access=_on_off(value, d))
    if d.name == "SecResponseBodyAccess":
        return settings._replace(response_body_access=_on_off(value, d))
    if d.name == "SecRequestBodyLimit":
        return settings._replace(request_body_limit=_number(value, d))
    if d.name == "SecRequestBodyNoFilesLimit":
        return settings._replace(request_body_no_files_limit=_number(value, d))
    if d.name == "SecResponseBodyLimit":
        return settings._replace(response_body_limit=_number(value, d))
    if d.name == "SecRequestBodyInMemoryLimit":
        return settings  # bodies are always in memory here, bounded by SecRequestBodyLimit
    if d.name in ("SecRequestBodyLimitAction", "SecResponseBodyLimitAction"):
        if value.lower() not in ("reject", "processpartial"):
            raise SecLangError(d.file, d.line, d.text, f"{value} is not Reject or ProcessPartial")
        reject = value.lower() == "reject"
        action: Literal["Reject", "ProcessPartial"] = "Reject" if reject else "ProcessPartial"
        if d.name.startswith("SecRequest"):
            return settings._replace(request_body_limit_action=action)
        return settings._replace(response_body_limit_action=action)
    if d.name == "SecResponseBodyMimeType":
        types = tuple(t.encode("latin-1").lower() for a in d.args for t in a.split())
        return settings._replace(response_body_mime_types=types)
    if d.name == "SecArgumentSeparator":
        if len(value) != 1:
            raise SecLangError(d.file, d.line, d.text, "the separator is one character")
        return settings._replace(argument_separator=value.encode("latin-1"))
    raise SecLangError(d.file, d.line, d.text, f"directive {d.name} is not supported")


def _on_off(value: str, d: Directive) -> bool:
    if value.lower() not in ("on", "off"):
        raise SecLangError(d.file, d.line, d.text, f"{value} is not On or Off")
    return value.lower() == "on"


def _number(value: str, d: Directive) -> int:
    if not value.isdigit():
        raise SecLangError(d.file, d.line, d.text, f"{value} is not a number")
    return int(value)


def engine_mode(value: str, d: Directive) -> Literal["On", "Off", "DetectionOnly"]:
    """SecRuleEngine's / ctl:ruleEngine's value."""
    lowered = value.lower()
    if lowered == "on":
        return "On"
    if lowered == "off":
        return "Off"
    if lowered == "detectiononly":
        return "DetectionOnly"
    raise SecLangError(d.file, d.line, d.text, f"{value} is not On, Off or DetectionOnly")
