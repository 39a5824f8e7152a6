# ruff: noqa: E501 - the corpus reads best one body per line
"""Multipart bodies through libmodsecurity and through ours: every variable and flag CRS reads.

The corpus: well-formed uploads, each malformation the parser flags, every multipart request of
CRS 4.28's regression suite (as sent and with CRLF line ends), and hypothesis mutations of them.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from originguard.waf.seclang.bodies import default_processor
from tests.crs_regression import crs_dir
from tests.unit.waf.seclang.test_bodies_differential import assert_same

# Derandomized so a landing run is reproducible. When changing the parser, run it longer and
# randomised: ORIGINGUARD_MULTIPART_EXAMPLES=4000 ORIGINGUARD_MULTIPART_RANDOM=1.
_EXAMPLES = int(os.environ.get("ORIGINGUARD_MULTIPART_EXAMPLES", "200"))
_DERANDOMIZE = not os.environ.get("ORIGINGUARD_MULTIPART_RANDOM")

CT = b"multipart/form-data; boundary=xyz"
T = b'Content-Disposition: form-data; name="b"\r\n\r\nv\r\n--xyz--\r\n'
FIELD = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n'

BODIES: list[tuple[bytes, bytes]] = [
    (CT, b""),
    (CT, FIELD + b"--xyz--\r\n"),
    (CT, FIELD + b"--xyz--"),
    (CT, FIELD + b"--xyz--  "),
    (CT, FIELD + b"--xyz\r\n"),
    (CT, FIELD + b"--xyz--\r\nafter"),
    (CT, b"before\r\n" + FIELD + b"--xyz--\r\n"),
    (CT, FIELD.replace(b"\r\n", b"\n") + b"--xyz--\n"),
    (CT, FIELD + b"--xyz\n" + T),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nl1\r\nl2\nl3\r\n\r\n--xyz\r\n' + T),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="q.txt"\r\nContent-Type: text/plain'
        b"\r\n\r\nl1\r\nl2\nl3\r\n\r\n--xyz\r\n" + T,
    ),
    (CT, b'--xyz\r\ncontent-disposition: form-data; name="a"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nCONTENT-DISPOSITION: form-data; name="a"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-disposition: form-data; name="a"; filename="x.php"\r\n\r\n<?php\r\n--xyz--\r\n'),
    (CT, b"--xyz\r\nX: y\r\n\r\nhello\r\n--xyz\r\n" + T),
    (CT, b"--xyz\r\nX: y\r\n\r\n--xyz\r\n" + T),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="c"\r\n\r\nh\r\n--xyz--\r\n',
    ),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nNoColon\r\n\r\nx\r\n--xyz\r\n' + T),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n: v\r\n\r\nx\r\n--xyz\r\n' + T),
    (CT, b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz\r\n" + T),
    (CT, b'--xyz\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--xyz\r\n' + T),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n--xyz\r\n' + T),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n--xyz--\r\n'),
    (CT, b"--xyz\r\n--xyz\r\n" + T),
    (CT, b"--xyz\r\n\r\n--xyz\r\n" + T),
    (CT, b"--xyz\r\nContent-Disposition: form-data; name=a\r\n  ; filename=b\r\n\r\nx\r\n--xyz--\r\n"),
    (CT, b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\v; filename=b\r\n\r\nx\r\n--xyz--\r\n"),
    (CT, b"--xyz\r\n Content-Disposition: form-data; name=a\r\n\r\nx\r\n--xyz--\r\n"),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nX:   y  \r\nZ:\r\n\tfolded\r\n\r\nv\r\n--xyz--\r\n',
    ),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="a\x01b"; filename="c\x7fd"\r\n\r\nx\r\n--xyz--\r\n',
    ),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nX-\x00: y\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\x00y\r\n--xyz--\r\n'),
    (CT, b"--xyz\r\nContent-Disposition: form-data; name='a'\r\n\r\nx\r\n--xyz--\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a\'b"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"x\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nx\r\n--xyz--\r\n'),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="a"; filename="b"; filename="c"\r\n\r\nx\r\n--xyz--\r\n',
    ),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"; other="b"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"; filename=""\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a\\"q\\\\b\\c"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a";\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b"--xyz\r\nContent-Disposition: form-data;name=a;filename=b.txt\r\n\r\nx\r\n--xyz--\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name = "a"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="unterminated\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, FIELD + b"--xyzz\r\n--xyz--\r\n"),
    (CT, FIELD + b"-- xyz\r\n--xyz--\r\n"),
    (CT, FIELD + b"--other\r\n--xyz--\r\n"),
    (CT, FIELD[:-2] + b" --xyz inside\r\n--xyz--\r\n"),
    (CT, FIELD + b"--xyz--\r\n--xyz--\r\n"),
    (CT, FIELD + b"--xyz \r\n--xyz--\r\n"),
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n'
        + b"A" * 9000
        + b"\r\n--xyz--\r\n",
    ),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"A" * 4095 + b"\r\n--xyz--\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"A" * 4094 + b"\r\n--xyz--\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n' + b"A" * 4096 + b"\r\n--xyz--\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="' + b"n" * 5000 + b'"\r\n\r\nx\r\n--xyz--\r\n'),
    (CT, b"no boundary at all\r\n"),
    (b'multipart/form-data; boundary="xyz"', FIELD + b"--xyz--\r\n"),
    (b'multipart/form-data; boundary="xyz"', FIELD + b'--"xyz"\r\n--xyz--\r\n'),
    (b"multipart/form-data boundary=xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary =xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary= xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary=xyz; charset=utf-8", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; charset=utf-8; boundary=xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary=xyz; boundary=abc", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; BOUNDARY=xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary=", FIELD + b"--xyz--\r\n"),
    (b'multipart/form-data; boundary=""', FIELD + b"--xyz--\r\n"),
    (b'multipart/form-data; boundary="xyz', FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary=x{z", b"--x{z\r\n--x{z--\r\n"),
    (b"multipart/form-data; boundary=xyz ", FIELD + b"--xyz--\r\n"),
    (
        b"multipart/form-data; boundary=a b",
        b'--a b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--a b--\r\n',
    ),
    (b"multipart/form-data; boundary=xyzboundary", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data;; boundary=xyz", FIELD + b"--xyz--\r\n"),
    (b"Multipart/Form-Data; boundary=xyz", FIELD + b"--xyz--\r\n"),
    (b"multipart/form-data; boundary=" + b"x" * 1100, b"--x\r\n"),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nX: y\r\r\n\r\nv\r\n--xyz--\r\n'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\rhello\r\n--xyz--'),
    (CT, b'--xyz\r\nContent-Disposition:\x01 form-data; name="a"\r\n\r\nhello\r\n--xyz--'),
    # A refused header line, then a fold line: 3.0.15 reports the folded header twice.
    *(
        (
            CT,
            b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nX: y\r\n'
            + line
            + b"\tf\r\n\r\nv\r\n--xyz--\r\n",
        )
        for line in (b"\x01Z: q\r\n", b"nocolon\r\n", b": q\r\n", b"X: z\r\n", b"\x01Z: q\r\n\x02Z: q\r\n")
    ),
    # The final boundary without a line end, met by multipart_complete (found by long random runs):
    # before the part's data it flags INVALID_PART; headers no blank line ended report all but the last.
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\x01\r\n\r\nhello\r\n--xyz--'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n--xyz--'),
    (CT, b'--xyz\r\nContent-Disposition: form-data; name="a"\r\nX-A: b\r\nX-B: c\r\n--xyz--'),
    (CT, b"--xyz\r\nX-A: b\r\nbad\r\n  fold\r\n--xyz--"),
    (CT, b"--xyz\r\nX-A: b\r\nX-C: d\r\n  fold\r\n--xyz--"),
    # A headers' fold with nothing to fold into: only its first byte is judged.
    (CT, b"--xyz\r\n \r\n--xyz--\r\n"),
    (CT, b"--xyz\r\n \x0bx\r\n--xyz--\r\n"),
    (CT, b"--xyz\r\n\x0b\r\n--xyz--\r\n"),
    # A failed Content-Disposition is parsed again at each blank line, its name already set.
    (
        CT,
        b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="q.txt"\x01\r\n'
        b"Content-Type: text/plain\r\n\r\nl1\r\n\r\n--xyz--\r\n",
    ),
]


@pytest.mark.parametrize(("content_type", "body"), BODIES)
def test_multipart_variables_equal_modsecurity(content_type: bytes, body: bytes) -> None:
    assert_same("MULTIPART", content_type, body)


def _crs_tests_dir() -> Path:
    return crs_dir() / "tests" / "regression" / "tests"


def _crs_multipart_bodies() -> list[tuple[str, bytes, bytes]]:
    """Every multipart request in CRS's regression suite: (test id, Content-Type, body)."""
    found: list[tuple[str, bytes, bytes]] = []
    root = _crs_tests_dir()
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "multipart" not in text.lower():
            continue
        for test in (yaml.safe_load(text) or {}).get("tests", []):
            for number, stage in enumerate(test.get("stages", [])):
                request = stage.get("input", {})
                key = f"{path.stem}-{test.get('test_id')}-{number}"
                if "encoded_request" in request:
                    raw = base64.b64decode(request["encoded_request"])
                    head, _, body = raw.partition(b"\r\n\r\n")
                    types = [
                        line.split(b":", 1)[1].strip()
                        for line in head.split(b"\r\n")[1:]
                        if line.lower().startswith(b"content-type:")
                    ]
                    content_type = types[0] if types else b""
                else:
                    headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
                    content_type = headers.get("content-type", "").encode("latin-1", "replace")
                    data = request.get("data", "")
                    body = ("".join(data) if isinstance(data, list) else str(data)).encode("utf-8")
                if default_processor(content_type) == "MULTIPART":  # what ModSecurity would run
                    found.append((key, content_type, body))
    return found


CRS_BODIES = _crs_multipart_bodies()


@pytest.mark.skipif(not CRS_BODIES, reason="CRS 4.28.0 regression suite not found (ORIGINGUARD_SHARED)")
@pytest.mark.parametrize(("key", "content_type", "body"), CRS_BODIES, ids=[k for k, _, _ in CRS_BODIES])
def test_crs_regression_multipart_bodies_equal_modsecurity(
    key: str, content_type: bytes, body: bytes
) -> None:
    assert_same("MULTIPART", content_type, body)
    if b"\r\n" not in body:
        assert_same("MULTIPART", content_type, body.replace(b"\n", b"\r\n"))


_PIECES = st.sampled_from(
    [
        b"\r\n",
        b"\n",
        b"\r",
        b"--xyz",
        b"--xyz--",
        b"--",
        b"Content-Disposition: form-data; ",
        b'name="a"',
        b"filename=f",
        b";",
        b":",
        b" ",
        b"\t",
        b"'",
        b'"',
        b"x",
        b"\x00",
        b"\\",
        b"=",
        b"X-H: v",
    ]
)


@settings(max_examples=max(300, _EXAMPLES), deadline=None)
@given(st.lists(_PIECES, max_size=30))
def test_multipart_random_bodies_equal_modsecurity(pieces: list[bytes]) -> None:
    assert_same("MULTIPART", CT, b"".join(pieces))


@settings(max_examples=_EXAMPLES, deadline=None, derandomize=_DERANDOMIZE, database=None)
@given(st.sampled_from(BODIES[1:40]), st.integers(0, 400), st.integers(0, 5), st.binary(max_size=3))
def test_multipart_mutated_bodies_equal_modsecurity(
    case: tuple[bytes, bytes], at: int, drop: int, insert: bytes
) -> None:
    content_type, body = case
    at %= len(body) + 1
    mutated = body[:at] + insert + body[at + drop :]
    # A NUL beside a line end: libmodsecurity 3.0.15 sets its LF/CRLF line flags from the line read
    # as a C string, so it misses the `\r` before a NUL; we judge the bytes. A ModSecurity bug.
    assume(b"\r\x00" not in mutated and b"\x00\n" not in mutated)
    assert_same("MULTIPART", content_type, mutated)
