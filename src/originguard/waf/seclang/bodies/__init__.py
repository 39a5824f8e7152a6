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

from typing import Final, Literal, NamedTuple, assert_never

BodyProcessor = Literal["URLENCODED", "MULTIPART", "JSON", "XML"]


class BodyLimits(NamedTuple):
    """The limits ModSecurity applies while it parses a body (its directives named)."""

    # SecArgumentsLimit counts ARGS (query + body): the caller passes what is left after the query.
    arguments: int | None = None
    json_depth: int | None = None  # SecRequestBodyJsonDepthLimit (512 in modsecurity.conf-recommended)
    # SecUploadFileLimit; ModSecurity counts files against it only when it extracts them to disk
    # (SecUploadKeepFiles / SecTmpSaveUploadedFiles), which `extract_files` says.
    upload_files: int = 100
    extract_files: bool = False


class FilePart(NamedTuple):
    """One multipart file part: FILES (filename), FILES_NAMES (name), FILES_SIZES, FILES_TMP_CONTENT."""

    name: bytes
    filename: bytes
    size: int
    content: bytes


class BodyResult(NamedTuple):
    """What a body processor leaves in the transaction's variables."""

    processor: BodyProcessor
    args: tuple[tuple[bytes, bytes], ...] = ()
    # ModSecurity 3 adds JSON arguments to ARGS only, not to ARGS_POST (transaction.cc addArgument).
    in_args_post: bool = True
    error: str | None = None  # REQBODY_ERROR_MSG; latin-1 text, so `.encode("latin-1")` is its bytes
    urlencoded_error: bool = False  # URLENCODED_ERROR: an invalid %-encoding in a name or value
    files: tuple[FilePart, ...] = ()
    files_combined_size: int | None = None  # FILES_COMBINED_SIZE (None when no file part)
    multipart_flags: dict[str, int] = {}
    multipart_names: tuple[bytes, ...] = ()  # MULTIPART_NAME: every name= seen, in order
    multipart_filenames: tuple[bytes, ...] = ()  # MULTIPART_FILENAME: every filename= seen
    part_headers: tuple[tuple[bytes, bytes], ...] = ()  # MULTIPART_PART_HEADERS: (part name, line)
    xml_text: bytes | None = None  # XML:/* : the document's string value (None: not parsed)
    xml_attributes: tuple[bytes, ...] = ()  # XML://@* : every attribute value in document order


PROCESSORS: Final[tuple[BodyProcessor, ...]] = ("URLENCODED", "MULTIPART", "JSON", "XML")


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


__all__ = ["BodyLimits", "BodyProcessor", "BodyResult", "FilePart", "default_processor", "parse_body"]
