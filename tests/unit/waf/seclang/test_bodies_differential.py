"""Our body processors against libmodsecurity 3.0.15 itself: same variables, same values.

ModSecurity is asked through rules: each collection's values and names are hex-encoded into TX
accumulators (so any byte survives its UTF-8 message strings), each scalar is logged hex-encoded.
Collections are compared as sorted lists: ModSecurity iterates them in hash order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.waf.seclang.bodies import BodyLimits, BodyProcessor, BodyResult, parse_body

libmodsecurity = pytest.importorskip("libmodsecurity")

COLLECTIONS = (
    "ARGS_POST",
    "ARGS",
    "FILES",
    "FILES_NAMES",
    "FILES_SIZES",
    "FILES_TMP_CONTENT",
    "MULTIPART_PART_HEADERS",
    "MULTIPART_FILENAME",
    "MULTIPART_NAME",
    "XML:/*",
    "XML://@*",
)
FLAGS = (
    "MULTIPART_STRICT_ERROR",
    "MULTIPART_BOUNDARY_QUOTED",
    "MULTIPART_BOUNDARY_WHITESPACE",
    "MULTIPART_DATA_BEFORE",
    "MULTIPART_DATA_AFTER",
    "MULTIPART_HEADER_FOLDING",
    "MULTIPART_LF_LINE",
    "MULTIPART_MISSING_SEMICOLON",
    "MULTIPART_INVALID_QUOTING",
    "MULTIPART_INVALID_PART",
    "MULTIPART_INVALID_HEADER_FOLDING",
    "MULTIPART_FILE_LIMIT_EXCEEDED",
    "MULTIPART_UNMATCHED_BOUNDARY",
    "MULTIPART_CRLF_LF_LINES",
)
SCALARS = (
    "REQBODY_ERROR",
    "REQBODY_PROCESSOR_ERROR",
    "REQBODY_ERROR_MSG",
    "URLENCODED_ERROR",
    "FILES_COMBINED_SIZE",
    *FLAGS,
)
SEP = "|~sep~|"  # hex values never contain it; names are assumed not to


def _rules(processor: str, directives: tuple[str, ...]) -> str:
    lines = ["SecRuleEngine On", "SecRequestBodyAccess On", *directives]
    lines.append(f'SecAction "id:90,phase:1,pass,nolog,ctl:requestBodyProcessor={processor}"')
    rule_id = 100
    for i, name in enumerate(COLLECTIONS):
        lines.append(
            f'SecRule {name} "@rx ^(.*)$" "id:{rule_id},phase:2,pass,nolog,capture,t:hexEncode,'
            f"setvar:'tx.dv{i}=%{{tx.dv{i}}}{SEP}%{{TX.1}}',"
            f"setvar:'tx.dn{i}=%{{tx.dn{i}}}{SEP}%{{MATCHED_VAR_NAME}}'\""
        )
        for kind in ("dv", "dn"):
            rule_id += 1
            lines.append(
                f'SecRule TX:{kind}{i} "@rx ^(.*)$" "id:{rule_id},phase:2,pass,log,capture,'
                f"t:hexEncode,msg:'{kind}{i}:%{{TX.1}}'\""
            )
        rule_id += 1
    for i, name in enumerate(SCALARS):
        lines.append(
            f'SecRule {name} "@rx ^(.*)$" "id:{rule_id + i},phase:2,pass,log,capture,'
            f"t:hexEncode,msg:'s{i}:%{{TX.1}}'\""
        )
    return "\n".join(lines)


_ENGINES: dict[tuple[str, tuple[str, ...]], Any] = {}
_SINK: list[str] = []


def modsecurity(
    processor: str, content_type: bytes, body: bytes, directives: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What libmodsecurity's body processor left: collections as sorted pairs, scalars as bytes."""
    key = (processor, directives)
    if key not in _ENGINES:
        engine = libmodsecurity.ModSecurity()
        engine.set_log_callback(_SINK.append)
        rules = libmodsecurity.RulesSet()
        assert rules.load(_rules(processor, directives)) >= 0, rules.get_parser_error()
        _ENGINES[key] = (engine, rules)
    engine, rules = _ENGINES[key]
    tx = libmodsecurity.Transaction(engine, rules)
    tx.process_connection("127.0.0.1", 1, "127.0.0.1", 80)
    tx.process_uri("/", "POST", "1.1")
    tx.add_request_header("Host", "localhost")
    tx.add_request_header("Content-Type", content_type.decode("latin-1"))
    tx.add_request_header("Content-Length", str(len(body)))
    tx.process_request_headers()
    tx.append_request_body(body)
    tx.process_request_body()
    found: dict[str, Any] = {name: [] for name in COLLECTIONS}
    values: dict[int, list[bytes]] = {}
    names: dict[int, list[bytes]] = {}
    for message in tx.get_rule_messages():
        tag, _, hexed = message.message.partition(":")
        raw = bytes.fromhex(hexed)
        index = int(tag[2:] if tag[0] == "d" else tag[1:])
        if tag[0] == "s":
            found[SCALARS[index]] = raw
            continue
        items = raw.split(SEP.encode())[1:]
        if tag.startswith("dv"):
            values[index] = [bytes.fromhex(item.decode()) for item in items]
        else:
            names[index] = [item.partition(b":")[2] for item in items]
    for index, vals in values.items():
        found[COLLECTIONS[index]] = sorted(zip(names[index], vals, strict=True))
    tx.process_logging()
    return found


def ours(result: BodyResult) -> dict[str, Any]:
    """Our result in the oracle's shape."""
    post = sorted(result.args) if result.in_args_post else []
    flags = result.multipart_flags
    found: dict[str, Any] = {
        "ARGS_POST": post,
        "ARGS": sorted(result.args),
        "FILES": sorted((f.filename, f.filename) for f in result.files),
        "FILES_NAMES": sorted((f.name, f.name) for f in result.files),
        "FILES_SIZES": sorted((f.name, str(f.size).encode()) for f in result.files),
        "FILES_TMP_CONTENT": sorted((f.filename, f.content) for f in result.files),
        "MULTIPART_PART_HEADERS": sorted(result.part_headers),
        "MULTIPART_FILENAME": sorted((n, n) for n in result.multipart_filenames),
        "MULTIPART_NAME": sorted((n, n) for n in result.multipart_names),
        "XML:/*": [] if result.xml_text is None else [(b"", result.xml_text)],
        "XML://@*": sorted((b"", v) for v in result.xml_attributes),
        "REQBODY_ERROR_MSG": (result.error or "").encode("latin-1"),
        "URLENCODED_ERROR": b"1" if result.urlencoded_error else b"0",
        "FILES_COMBINED_SIZE": b""
        if result.files_combined_size is None
        else str(result.files_combined_size).encode(),
    }
    for flag in FLAGS:
        found[flag] = str(flags[flag]).encode() if flag in flags else b""
    return found


_NO_LIMITS = BodyLimits()


def directives_for(limits: BodyLimits) -> tuple[str, ...]:
    out = []
    if limits.arguments is not None:
        out.append(f"SecArgumentsLimit {limits.arguments}")
    if limits.json_depth is not None:
        out.append(f"SecRequestBodyJsonDepthLimit {limits.json_depth}")
    return tuple(out)


def assert_same(
    processor: BodyProcessor, content_type: bytes, body: bytes, limits: BodyLimits = _NO_LIMITS
) -> None:
    theirs = modsecurity(processor, content_type, body, directives_for(limits))
    mine = ours(parse_body(processor, content_type, body, limits=limits))
    for scalar in SCALARS:
        theirs.setdefault(scalar, b"")
    error = theirs.pop("REQBODY_ERROR")
    assert theirs.pop("REQBODY_PROCESSOR_ERROR") == error
    assert (error == b"1") == bool(mine["REQBODY_ERROR_MSG"]), (error, mine["REQBODY_ERROR_MSG"])
    if processor != "URLENCODED":
        theirs["URLENCODED_ERROR"] = mine["URLENCODED_ERROR"]  # only the form parser sets it
    different = {k: (theirs[k], mine[k]) for k in theirs if theirs[k] != mine[k]}
    assert not different, different


URLENCODED_BODIES = [
    b"",
    b"a=1",
    b"a=1&b=2&a=3",
    b"a=1&",
    b"&a=1",
    b"a=1&&b=2",
    b"=x&y=&z&==",
    b"a+b=c+d%20e",
    b"%41%42=%43",
    b"bad=%zz&trunc=%4&end=%",
    b"%%41=%%%",
    b"x=%2B%2b+%",
    b"nul=\x00%00&hi=\xff%ff",
    b"a=b=c&d==e",
    b"id=1%27%20OR%20%271%27=%271",
    b"\n=\r\n&;=;",
]


@pytest.mark.parametrize("body", URLENCODED_BODIES)
def test_urlencoded_arguments_equal_modsecurity(body: bytes) -> None:
    assert_same("URLENCODED", b"application/x-www-form-urlencoded", body)


def test_urlencoded_arguments_limit_equals_modsecurity() -> None:
    assert_same("URLENCODED", b"application/x-www-form-urlencoded", b"a=1&b=2&c=3", BodyLimits(arguments=2))


JSON_BODIES = [
    b"",
    b"{}",
    b"[]",
    b'"x"',
    b"12.50",
    b'{"a":{"b":[1,"x",{"c":true},[null,2.50]]},"d":"\\u00e9\\n","e":[],"":{"":1},"f.g":false}',
    b'[1,{"a":2},[3]]',
    b'{"a":1,"a":2}',
    b" \n[1e999, -0, 123456789012345678901234567890, 1E+2, 0.5e-3]  \n",
    b'["\\ud800", "\\udc00x", "\\ud83d\\ude00", "\\u0000", "\\/\\b\\f\\r\\t\\"\\\\"]',
    b'{"a":{}, "b":[{}], "c":[[]]}',
    b'{"user":{"name":"x\' OR 1=1--","tags":["<script>",""]}}',
    b'{"a":',
    b'{"a":1} {"b":2}',
    b"[1, 2",
    b"[1, 2,]",
    b'{"a":1,}',
    b"[NaN]",
    b'["a\tb"]',
    b"[01]",
    b"[1.]",
    b"[1e]",
    b"[-]",
    b"[tru]",
    b"[true",
    b'["\\x"]',
    b'["\\u12"]',
    b'["\\u12zz"]',
    b"{1:2}",
    b'{"a" 1}',
    b'{"a":1 "b":2}',
    b"[1 2]",
    b"/* c */[1]",
    b"\xef\xbb\xbf[1]",
    b'{"a":"\xff"}',
    b'{"a":"\xc3"}',
    b'["ok", "\xe2\x82"]',
    b"   ",
    b"]",
    b'{"a":[1,2]]',
    b'["unterminated',
    b'[1,{"k":[true,false,null]},"s"] x',
]


@pytest.mark.parametrize("body", JSON_BODIES)
def test_json_arguments_equal_modsecurity(body: bytes) -> None:
    assert_same("JSON", b"application/json", body)


@pytest.mark.parametrize("depth", range(5))
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_json_depth_limit_equals_modsecurity(depth: int, limit: int) -> None:
    limits = BodyLimits(json_depth=limit)
    assert_same("JSON", b"application/json", b"[" * depth + b"1" + b"]" * depth, limits)
    assert_same("JSON", b"application/json", b'{"a":' * depth + b"[1,2]" + b"}" * depth, limits)


@pytest.mark.parametrize("limit", [0, 1, 2, 3])
def test_json_arguments_limit_equals_modsecurity(limit: int) -> None:
    assert_same("JSON", b"application/json", b'{"a":1,"b":[2,3],"c":4}', BodyLimits(arguments=limit))


_FORM_BYTES = st.binary(max_size=40) | st.text("ab=&%+2fZ\x00\xff", max_size=30).map(
    lambda s: s.encode("latin-1")
)


@settings(max_examples=150, deadline=None)
@given(_FORM_BYTES)
def test_urlencoded_random_bodies_equal_modsecurity(body: bytes) -> None:
    assert_same("URLENCODED", b"application/x-www-form-urlencoded", body)


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_JSON_VALUES, st.sampled_from([b"", b"", b" ", b"]", b"}", b",", b"x"]), st.integers(0, 40))
def test_json_random_documents_equal_modsecurity(document: object, tail: bytes, cut: int) -> None:
    body = json.dumps(document, ensure_ascii=cut % 2 == 0).encode()
    assert_same("JSON", b"application/json", body + tail)
    assert_same("JSON", b"application/json", body[: len(body) - cut % max(len(body), 1)])


@pytest.mark.parametrize(
    "body",
    [b'["\\ud800xy"]', b'["\\ud800\\u0041z"]', b'["\\uD83D\\uDE00"]', b'{"\\ud800":1}', b'["\\ud800'],
)
def test_json_surrogate_quirks_equal_modsecurity(body: bytes) -> None:
    assert_same("JSON", b"application/json", body)


@pytest.mark.parametrize(
    "body", [b"[0.", b"[1e", b"[1e+", b"[-", b"0.", b"-", b'"\\u12', b'["\\', b"[nul", b"[tr"]
)
def test_json_cut_tokens_equal_modsecurity(body: bytes) -> None:
    assert_same("JSON", b"application/json", body)


@pytest.mark.parametrize(
    "body", [b"%zz=1", b"a=%zz", b"%4", b"a=%4", b"a=%4x", b"a=%", b"a=%%41", b"a=%\x00"]
)
def test_urlencoded_error_flag_equals_modsecurity(body: bytes) -> None:
    assert_same("URLENCODED", b"application/x-www-form-urlencoded", body)
