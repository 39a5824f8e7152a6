"""JSON bodies as ModSecurity 3 (yajl) turns them into arguments.

Names: `json` for a top-level scalar, `.key` per object level (`empty-key` for ""), `.array_N` per
array element; values: strings as UTF-8, numbers as written, `true`/`false`, and "" for null.
The well-formed case goes through the stdlib's C scanner (hooks keep number text and duplicate
keys); anything it refuses is replayed by `json_stream`, which stops where yajl stops, keeps the
arguments yajl had already added and words the error as yajl does.
"""

from __future__ import annotations

import json
import re
from typing import Final

from originguard.waf.seclang.bodies.json_stream import JsonStop, stream_arguments
from originguard.waf.seclang.bodies.result import BodyLimits, BodyResult

_PREFIX: Final = "JSON parsing error: "
_HIGH_SURROGATE: Final = re.compile(rb"\\u[dD][89abAB]")
_CANCELLED: Final = "parse error: client cancelled parse via callback return value\n"


class _Pairs(list[tuple[str, object]]):
    """An object as its (key, value) pairs: duplicates and order kept, as yajl reports them."""


def _no_constant(name: str) -> object:
    raise ValueError(name)  # NaN/Infinity are not JSON; yajl refuses them


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_Pairs, parse_float=str, parse_int=str, parse_constant=_no_constant
)


def parse_json(body: bytes, limits: BodyLimits) -> BodyResult:
    """ARGS from a JSON body, with REQBODY_ERROR_MSG worded as ModSecurity words it."""
    if not body:
        return BodyResult("JSON", in_args_post=False)  # ModSecurity parses nothing, reports nothing
    if _HIGH_SURROGATE.search(body):
        return _replay(body, limits)  # yajl's surrogate quirks live in the replay only
    try:
        text = body.decode("utf-8")
        document = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return _replay(body, limits)
    args: list[tuple[bytes, bytes]] = []
    error = _walk(document, "json", 0, args, limits)
    return BodyResult("JSON", args=tuple(args), in_args_post=False, error=error)


def _walk(
    node: object, path: str, depth: int, out: list[tuple[bytes, bytes]], limits: BodyLimits
) -> str | None:
    """Append the arguments of `node`; an error text when a limit stops yajl."""
    if isinstance(node, _Pairs | list):
        if limits.json_depth is not None and depth >= limits.json_depth:
            return _PREFIX + _CANCELLED + ". Parsing depth limit exceeded"
        if isinstance(node, _Pairs):
            for key, child in node:
                error = _walk(child, f"{path}.{key or 'empty-key'}", depth + 1, out, limits)
                if error:
                    return error
        else:
            for index, child in enumerate(node):
                error = _walk(child, f"{path}.array_{index}", depth + 1, out, limits)
                if error:
                    return error
        return None
    if limits.arguments is not None and len(out) >= limits.arguments:
        return _PREFIX + _CANCELLED
    out.append((_utf8(path), _scalar(node)))
    return None


def _scalar(node: object) -> bytes:
    if node is True:
        return b"true"
    if node is False:
        return b"false"
    if node is None:
        return b""
    assert isinstance(node, str)
    return _utf8(node)


def _utf8(text: str) -> bytes:
    # A lone low surrogate escape (the only kind left here) becomes its 3 bytes, as in yajl.
    return text.encode("utf-8", "surrogatepass")


def _replay(body: bytes, limits: BodyLimits) -> BodyResult:
    args: list[tuple[bytes, bytes]] = []
    try:
        stream_arguments(body, limits, args)
    except JsonStop as stop:
        return BodyResult("JSON", args=tuple(args), in_args_post=False, error=_PREFIX + stop.message)
    # The stdlib refused what yajl accepts (none known): keep yajl's view, no error.
    return BodyResult("JSON", args=tuple(args), in_args_post=False)
