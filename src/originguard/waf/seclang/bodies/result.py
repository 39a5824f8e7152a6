"""The types the body processors share: their limits and what they leave in the variables."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

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
