"""Rule targets: compiled at load from `ARGS:foo|!ARGS:bar|&TX:x`, resolved per transaction.

ModSecurity v3 compares collection keys case-insensitively (its AnchoredSetVariable), regex
selectors too; an exclusion `!C:key` removes that key of C from the rule's other targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import re2

from originguard.errors import SecLangError
from originguard.waf.seclang.memo import Memo
from originguard.waf.seclang.model import VarSpec
from originguard.waf.seclang.parse import Directive, VarRef, parse_variables

COLLECTIONS: Final = frozenset(
    {
        "ARGS",
        "ARGS_GET",
        "ARGS_POST",
        "ARGS_NAMES",
        "ARGS_GET_NAMES",
        "ARGS_POST_NAMES",
        "REQUEST_COOKIES",
        "REQUEST_COOKIES_NAMES",
        "REQUEST_HEADERS",
        "REQUEST_HEADERS_NAMES",
        "RESPONSE_HEADERS",
        "RESPONSE_HEADERS_NAMES",
        "FILES",
        "FILES_NAMES",
        "FILES_SIZES",
        "FILES_TMP_CONTENT",
        "MULTIPART_PART_HEADERS",
        "MULTIPART_NAME",
        "MULTIPART_FILENAME",
        "TX",
        "IP",
        "GLOBAL",
        "SESSION",
        "USER",
        "RESOURCE",
        "GEO",
        "MATCHED_VARS",
        "MATCHED_VARS_NAMES",
        "RULE",
        "XML",
    }
)
SCALARS: Final = frozenset(
    {
        "REQUEST_URI",
        "REQUEST_URI_RAW",
        "REQUEST_FILENAME",
        "REQUEST_BASENAME",
        "REQUEST_LINE",
        "REQUEST_METHOD",
        "REQUEST_PROTOCOL",
        "QUERY_STRING",
        "PATH_INFO",
        "REQUEST_BODY",
        "REQUEST_BODY_LENGTH",
        "ARGS_COMBINED_SIZE",
        "FILES_COMBINED_SIZE",
        "REMOTE_ADDR",
        "REMOTE_HOST",
        "REMOTE_PORT",
        "SERVER_ADDR",
        "SERVER_NAME",
        "SERVER_PORT",
        "REQBODY_PROCESSOR",
        "REQBODY_ERROR",
        "REQBODY_ERROR_MSG",
        "REQBODY_PROCESSOR_ERROR",
        "REQBODY_PROCESSOR_ERROR_MSG",
        "URLENCODED_ERROR",
        "INBOUND_DATA_ERROR",
        "OUTBOUND_DATA_ERROR",
        "UNIQUE_ID",
        "DURATION",
        "MATCHED_VAR",
        "MATCHED_VAR_NAME",
        "RESPONSE_BODY",
        "RESPONSE_STATUS",
        "RESPONSE_PROTOCOL",
        "RESPONSE_CONTENT_TYPE",
        "RESPONSE_CONTENT_LENGTH",
        "STATUS_LINE",
        "FULL_REQUEST_LENGTH",
        "HIGHEST_SEVERITY",
        "AUTH_TYPE",
        "MULTIPART_BOUNDARY_QUOTED",
        "MULTIPART_BOUNDARY_WHITESPACE",
        "MULTIPART_CRLF_LF_LINES",
        "MULTIPART_DATA_AFTER",
        "MULTIPART_DATA_BEFORE",
        "MULTIPART_FILE_LIMIT_EXCEEDED",
        "MULTIPART_HEADER_FOLDING",
        "MULTIPART_INVALID_HEADER_FOLDING",
        "MULTIPART_INVALID_PART",
        "MULTIPART_INVALID_QUOTING",
        "MULTIPART_LF_LINE",
        "MULTIPART_MISSING_SEMICOLON",
        "MULTIPART_SEMICOLON_MISSING",
        "MULTIPART_STRICT_ERROR",
        "MULTIPART_UNMATCHED_BOUNDARY",
    }
)
# The XPath expressions a pure XML processor answers without an XPath engine; CRS uses only these.
XML_PATHS: Final = frozenset({"/*", "//@*"})


class KeyPattern:
    """A `/regex/` selector that remembers its verdict per key: the same TX and header names come
    back on every request (CRS's TX has ~130 keys, scanned by several selectors per request)."""

    __slots__ = ("regex", "verdicts")

    def __init__(self, regex: Any) -> None:
        self.regex = regex
        # keys are partly request-chosen (header names): bounded by the bytes they hold
        self.verdicts: Memo[bytes, bool] = Memo(128 << 10)

    def search(self, key: bytes) -> bool | None:
        """True when the selector matches `key`, else None (as a regex's search is tested)."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.regex.search(key) is not None
            self.verdicts.put(key, verdict, len(key))
        return True if verdict else None


def compile_targets(
    refs: Sequence[VarRef], d: Directive, *, allow_only_exclusions: bool = True
) -> tuple[tuple[VarSpec, ...], tuple[VarSpec, ...]]:
    """(targets, exclusions) of a rule's variable list."""
    targets: list[VarSpec] = []
    exclusions: list[VarSpec] = []
    for ref in refs:
        spec = compile_target(ref, d)
        (exclusions if ref.negated else targets).append(spec)
    if not targets and not allow_only_exclusions and not exclusions:
        raise SecLangError(d.file, d.line, d.text, "no variable")
    return tuple(targets), tuple(exclusions)


def compile_target(ref: VarRef, d: Directive) -> VarSpec:
    """One variable reference → `VarSpec`, or a SecLangError naming what is not supported."""
    name, selector = ref.name, ref.selector
    if name not in COLLECTIONS and name not in SCALARS:
        raise SecLangError(d.file, d.line, d.text, f"variable {name} is not supported")
    if selector and name in SCALARS:
        raise SecLangError(d.file, d.line, d.text, f"variable {name} takes no selector")
    if name == "XML" and selector not in XML_PATHS:
        raise SecLangError(
            d.file, d.line, d.text, f"XPath {selector or '(none)'} is not supported (only /* and //@*)"
        )
    text = f"{name}:{selector}" if selector else name
    key: bytes | None = None
    regex: Any = None
    if selector.startswith("/") and selector.endswith("/") and len(selector) > 1 and name != "XML":
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.case_sensitive = False
        try:
            regex = KeyPattern(re2.compile(selector[1:-1].encode("latin-1"), options))
        except re2.error as exc:
            raise SecLangError(d.file, d.line, d.text, f"selector {selector}: {exc}") from None
    elif selector:
        key = selector.strip("'").encode("latin-1").lower()
    return VarSpec(name, key, regex, ref.counting, ref.negated, text)


def parse_target_text(text: str, d: Directive) -> VarSpec:
    """The target of `ctl:ruleRemoveTargetById=ID;ARGS:foo`."""
    refs = parse_variables(text, d.file, d.line)
    if len(refs) != 1:
        raise SecLangError(d.file, d.line, d.text, f"{text} is not one target")
    return compile_target(refs[0], d)


def selects(spec: VarSpec, key_lower: bytes) -> bool:
    """Whether `spec` (a target or an exclusion) names the entry with this key."""
    if spec.key is not None:
        return spec.key == key_lower
    if spec.key_regex is not None:
        return spec.key_regex.search(key_lower) is not None
    return True
