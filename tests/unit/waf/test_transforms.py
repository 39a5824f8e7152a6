"""Each text transformation, and that none of them can be crashed by input."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.waf.transforms import (
    CMD_LINE_SPACES,
    CMD_LINE_TRIGGERS,
    TRANSFORMS,
    base64_decode,
    chain,
    cmd_line,
    compress_white_space,
    html_entity_decode,
    js_decode,
    lowercase,
    normalize_path,
    remove_nulls,
    replace_comments,
    url_decode,
    url_decode_uni,
)


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("a%27b", "a'b"),
        ("a+b", "a b"),
        ("%3Cscript%3E", "<script>"),
        ("%zz%4", "%zz%4"),  # invalid escapes stay
        ("caf%C3%A9", "café"),
        ("%ff%fe", "\xff\xfe"),  # not UTF-8: one char per byte, nothing lost
        ("plain", "plain"),
    ],
)
def test_url_decode_decodes_escapes_and_leaves_invalid_ones(raw: str, decoded: str) -> None:
    assert url_decode(raw) == decoded


def test_url_decode_uni_decodes_iis_percent_u_in_one_pass() -> None:
    assert url_decode_uni("%u0027%20or%u003d") == "' or="
    assert url_decode_uni("%u0025%32%37") == "%27"  # one pass: the decoded % is not decoded again
    assert url_decode_uni("%uZZZZ") == "%uZZZZ"


def test_lowercase() -> None:
    assert lowercase("SeLeCt ÄÖ") == "select äö"


def test_html_entity_decode_named_numeric_and_without_semicolon() -> None:
    assert html_entity_decode("&lt;script&gt;&#106;&#x61;&quot") == '<script>ja"'


def test_compress_white_space_folds_every_kind_of_space() -> None:
    assert compress_white_space("a \t\n\r\x0b\x0c\xa0 b") == "a b"


def test_remove_nulls() -> None:
    assert remove_nulls("scr\x00ipt\x00") == "script"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("/a//b/./c/../d", "/a/b/d"),
        ("/a/b/", "/a/b/"),
        ("/../../etc/passwd", "/etc/passwd"),
        ("a/../../b", "../b"),
        ("/", "/"),
        ("", ""),
        ("./", "/"),
    ],
)
def test_normalize_path(raw: str, normal: str) -> None:
    assert normalize_path(raw) == normal


def test_base64_decode_standard_urlsafe_unpadded_and_invalid() -> None:
    assert base64_decode("PHNjcmlwdD4=") == "<script>"
    assert base64_decode("PHNjcmlwdD4") == "<script>"
    assert base64_decode("Pz8_") == "??\x3f"
    assert base64_decode("not base64!") == "not base64!"


def test_cmd_line_undoes_shell_obfuscation() -> None:
    assert cmd_line("W'h'O\"am\"I") == "whoami"
    assert cmd_line("c^at  /etc/passwd") == "cat/etc/passwd"
    assert cmd_line("a;b,c") == "a b c"
    assert cmd_line("system (1)") == "system(1)"


def _cmd_line_reference(value: str) -> str:
    """cmd_line as one translate and two unconditional subs (before its fast paths)."""
    value = value.translate(str.maketrans({"\\": None, '"': None, "'": None, "^": None, ",": " ", ";": " "}))
    value = re.sub(r"\s+(?=[/(])", "", value)
    return re.sub(r"[\s\x0b\xa0]+", " ", value).lower()


@given(st.text(alphabet="aB\\\"'^,;/( \t\n\x0b\x1f\x85\xa0\u2003\u2028İ", max_size=12))
def test_cmd_line_fast_paths_give_the_full_transform(value: str) -> None:
    assert cmd_line(value) == _cmd_line_reference(value)


@given(st.text(alphabet="aB\\\\\"'^,;/( \t\n\xa0İ%+", max_size=12))
def test_cmd_line_only_lower_cases_text_without_its_triggers(value: str) -> None:
    if not any(t in value for t in CMD_LINE_TRIGGERS) and not re.search(CMD_LINE_SPACES, value):
        assert cmd_line(value) == value.lower()


def test_every_whitespace_but_the_space_is_unprintable() -> None:
    # cmd_line skips its whitespace pass on printable text without a double space.
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 0x20]
    assert spaces and not any(space.isprintable() for space in spaces)
    assert all(re.fullmatch(r"\s", space) for space in spaces)
    # quiet.py proves cmd_line fields quiet with CMD_LINE_SPACES: exactly those characters.
    assert spaces == re.findall(CMD_LINE_SPACES, "".join(chr(c) for c in range(sys.maxunicode + 1)))


def test_replace_comments_including_unterminated() -> None:
    assert replace_comments("un/**/ion/*x*/select") == "un ion select"
    assert replace_comments("1 /* rest") == "1  "


def test_js_decode_hex_unicode_octal_and_letters() -> None:
    assert js_decode(r"\x3cscript\u003e\101\n\q") == "<script>A\nq"
    assert js_decode("\\") == "\\"


def test_chain_applies_in_order() -> None:
    assert chain(["url_decode", "lowercase"])("%41B") == "ab"
    assert chain(["lowercase", "base64_decode"])("PHNjcmlwdD4=") != "<script>"  # order matters
    assert chain([])("x") == "x"


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@given(value=st.text())
def test_no_transform_crashes_on_any_text(name: str, value: str) -> None:
    assert isinstance(TRANSFORMS[name](value), str)  # type: ignore[index]


@given(value=st.text(alphabet=st.sampled_from("%uU0123456789abcdefABCDEF+&#;x/\\.'\"*")))
def test_decoders_survive_escape_soup(value: str) -> None:
    for fn in TRANSFORMS.values():
        fn(value)


def _url_decode_reference(value: str, *, uni: bool) -> str:
    """url_decode(_uni) as one regex substitution with a call per escape (before unquote_to_bytes)."""
    if "%" not in value:
        return value.replace("+", " ")
    raw = value.replace("+", " ").encode("utf-8", "surrogatepass")
    if uni:
        pattern = rb"%(?:[uU]([0-9A-Fa-f]{4})|([0-9A-Fa-f]{2}))"
        decoded = re.sub(
            pattern,
            lambda m: (
                chr(int(m.group(1), 16)).encode("utf-8", "surrogatepass")
                if m.group(1) is not None
                else bytes((int(m.group(2), 16),))
            ),
            raw,
        )
    else:
        decoded = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes((int(m.group(1), 16),)), raw)
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        return decoded.decode("latin-1")


@given(st.text(alphabet="a%2F0zZ+é\ud800uUeE1%", max_size=14))
def test_url_decoding_reads_escapes_as_a_regex_substitution_would(value: str) -> None:
    assert url_decode(value) == _url_decode_reference(value, uni=False)
    assert url_decode_uni(value) == _url_decode_reference(value, uni=True)
