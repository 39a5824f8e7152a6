"""Request body processors with ModSecurity 3's output, on bytes: what CRS reads from a body.

    result = parse_body("MULTIPART", content_type, body, limits=BodyLimits())
    result.args            # ARGS_POST (and ARGS) pairs in body order
    result.multipart_flags # MULTIPART_STRICT_ERROR, MULTIPART_UNMATCHED_BOUNDARY, ...
    result.error           # REQBODY_ERROR_MSG when REQBODY_ERROR is 1, else None

Each processor reproduces libmodsecurity 3.0.15 (the oracle of the differential tests), quirks
included: urlencoded splitting and lenient %-decoding, the multipart line parser and its flags,
yajl's JSON argument names (`json.a.array_0.b`) and error texts, libxml2's string value of the
document for `XML:/*`. Pure: no I/O, no clock, no logging.
"""

from __future__ import annotations

from typing import assert_never

from originguard.waf.seclang.bodies.result import (
    PROCESSORS,
    BodyLimits,
    BodyProcessor,
    BodyResult,
    FilePart,
)


def parse_body(
    processor: BodyProcessor, content_type: bytes, body: bytes, *, limits: BodyLimits
) -> BodyResult:
    """Run one of ModSecurity's request body processors over a complete body."""
    if processor == "URLENCODED":
        from originguard.waf.seclang.bodies.urlencoded import parse_urlencoded

        return parse_urlencoded(body, limits)
    if processor == "MULTIPART":
        from originguard.waf.seclang.bodies.multipart import parse_multipart

        return parse_multipart(content_type, body, limits)
    if processor == "JSON":
        from originguard.waf.seclang.bodies.json_body import parse_json

        return parse_json(body, limits)
    if processor == "XML":
        from originguard.waf.seclang.bodies.xml_body import parse_xml

        return parse_xml(body)
    assert_never(processor)


def default_processor(content_type: bytes) -> BodyProcessor | None:
    """The processor ModSecurity picks from Content-Type alone (JSON and XML need a ctl action)."""
    lowered = content_type.lower()
    if lowered.startswith(b"multipart/form-data"):
        return "MULTIPART"
    if lowered.startswith(b"application/x-www-form-urlencoded"):
        return "URLENCODED"
    return None


__all__ = [
    "PROCESSORS",
    "BodyLimits",
    "BodyProcessor",
    "BodyResult",
    "FilePart",
    "default_processor",
    "parse_body",
]
