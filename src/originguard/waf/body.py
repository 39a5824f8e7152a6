# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""What the WAF reads from a request body: its text, its form arguments, the strings of a JSON document.

A JSON body is parsed and walked once per request (`WafRequest.parsed_body`), into its keys and values
in document order, its keys alone and its values alone: the core body rule reads the first, json_values
rules the last, and each walk cost ~1.3 µs on the bench's order document.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import orjson

from originguard.waf.request import FieldValues, WafRequest, query_parts

_EMPTY: Final[FieldValues] = ()


class JsonStrings(NamedTuple):
    """The strings of a JSON document: keys and scalar values in order, keys alone, values alone."""

    both: FieldValues
    keys: FieldValues
    values: FieldValues


NOT_JSON: Final = JsonStrings((), (), ())  # the body does not parse (compared by identity)


def body_text(request: WafRequest) -> str:
    """The (possibly truncated) body as text; bytes that are not UTF-8 map one-to-one via latin-1."""
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        return request.body.decode("latin-1")


def body_parts(request: WafRequest) -> FieldValues:
    """The body for detectors: form bodies split into arguments, JSON into strings, else the whole text."""
    if not request.body:
        return _EMPTY
    content_type = next(iter(request.header_values("content-type")), "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return query_parts(body_text(request))
    if "json" in content_type:
        parsed = json_strings(request, keys=True, values=True)
        if parsed is not None:
            return parsed
    return (body_text(request),)


def json_strings(request: WafRequest, *, keys: bool, values: bool) -> FieldValues | None:
    """Keys and/or scalar values of a JSON body as strings; None when the body is not JSON."""
    found = request.parsed_body(_json_strings)
    if found is NOT_JSON:
        return None
    if keys:
        return found.both if values else found.keys
    return found.values


def _json_strings(body: bytes) -> JsonStrings:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return NOT_JSON
    return _walk_json(document)


def _walk_json(node: Any) -> JsonStrings:
    # An explicit stack, not recursion: a hostile body may nest deeper than Python's recursion limit.
    # orjson builds exact str/dict/list types, so `type() is` tests (strings first: the common leaf).
    both: list[str] = []
    keys: list[str] = []
    values: list[str] = []
    stack: list[Any] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            both.append(item)
            values.append(item)
        elif kind is dict:
            for key, child in item.items():
                both.append(key)
                keys.append(key)
                push(child)
        elif kind is list:
            stack.extend(reversed(item))
        elif item is not None:
            text = orjson.dumps(item).decode()
            both.append(text)
            values.append(text)
    return JsonStrings(tuple(both), tuple(keys), tuple(values))
