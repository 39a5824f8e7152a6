# ruff: noqa: E501 - the corpus reads best one body per line
"""XML bodies: XML:/* and XML://@* equal libmodsecurity's, and no entity ever expands."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.waf.seclang.bodies import BodyLimits, parse_body
from tests.unit.waf.seclang.test_bodies_differential import assert_same, modsecurity

XML_BODIES = [
    b"<a>hi</a>",
    b"<a x='1' y=\"2\"><b z='3'>t1</b> t2 <c>t3<![CDATA[cd<>]]></c><!-- com --><?pi x?></a>",
    b"<?xml version='1.0'?>\n<a>\n  <b>1</b>\n</a>\n",
    b"<a>&amp;&lt;&#65;&#x42;&#233;</a>",
    b"<a>",
    b"",
    b"   ",
    b"not xml",
    b"<a>\xff</a>",
    b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>",
    b"<a xmlns='urn:x' xmlns:p='urn:p' p:q='v'>t</a>",
    b"<a>1</a><b>2</b>",
    b"<a b='&amp;x'/>",
    b"<a b='x\ty\nz'/>",
    b"<a>\x01</a>",
    b"\xef\xbb\xbf<a>bom</a>",
    b"<a><b>x</b></a>  trailing",
    b"<a><b>x</b></a><!-- after --> \n",
    b'<!DOCTYPE a SYSTEM "http://127.0.0.1:1/x.dtd"><a>t</a>',
    b"<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]><a>t</a>",
    b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body><q id='1'>' OR 1=1--</q></soap:Body></soap:Envelope>",
    b"<a><b c='1'/><b c='2'>x</b><d e='&lt;script&gt;'/></a>",
    b"<a>\xe2\x82\xac \xf0\x9f\x98\x80</a>",
    "<a>ünï</a>".encode("utf-16"),
]


@pytest.mark.parametrize("body", XML_BODIES)
def test_xml_values_equal_modsecurity(body: bytes) -> None:
    assert_same("XML", b"text/xml", body)


XXE = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>'
PARAM_XXE = b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><a>t</a>'
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
INTERNAL = b'<!DOCTYPE a [<!ENTITY e "EXPANDED">]><a>&e;</a>'


@pytest.mark.parametrize("body", [XXE, PARAM_XXE, LAUGHS, INTERNAL])
def test_entity_declarations_are_refused_never_expanded(body: bytes) -> None:
    started = time.perf_counter()
    result = parse_body("XML", b"text/xml", body, limits=BodyLimits())
    assert time.perf_counter() - started < 0.5  # the billion laughs never expands
    assert result.error == "XML parsing error: XML: Failed to parse document."
    assert result.xml_text in (None, b"")
    assert b"root:" not in (result.xml_text or b"")
    assert b"lol" not in (result.xml_text or b"")
    assert b"EXPANDED" not in (result.xml_text or b"")


def test_modsecurity_expands_internal_entities_where_we_refuse_them() -> None:
    """The one documented divergence: libxml2 in ModSecurity expands an internal entity."""
    theirs = modsecurity("XML", b"text/xml", INTERNAL)
    assert theirs["XML:/*"] == [(b"/*", b"EXPANDED")]
    ours = parse_body("XML", b"text/xml", INTERNAL, limits=BodyLimits())
    assert ours.error is not None


_XML_PIECES = st.sampled_from(
    [
        b"<a>",
        b"</a>",
        b"<b c='1'>",
        b"</b>",
        b"<d/>",
        b"text",
        b" ",
        b"\n",
        b"&amp;",
        b"&#65;",
        b"&bad;",
        b"<![CDATA[x<y]]>",
        b"<!-- c -->",
        b"<?p i?>",
        b"'",
        b'"',
        b"<",
        b">",
        b"\xc3\xa9",
        b"\xff",
        b"=",
        b"<e f='a&lt;b' g=\"2\">",
        b"</e>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_XML_PIECES, max_size=20))
def test_xml_random_documents_equal_modsecurity(pieces: list[bytes]) -> None:
    """Well-formed or not, the verdict is the same; the values too when the document is well-formed.

    (For a broken document libxml2 keeps a partial tree whose last text node depends on its push
    parser's internals, e.g. `<a>x<b>y</b>z` keeps "xy" but `<a>text` keeps "text"; both set
    REQBODY_ERROR, which CRS's rule 200002 blocks, so the partial text is not compared.)
    """
    body = b"".join(pieces)
    theirs = modsecurity("XML", b"text/xml", body)
    ours = parse_body("XML", b"text/xml", body, limits=BodyLimits())
    assert (theirs.get("REQBODY_ERROR") == b"1") == (ours.error is not None)
    if ours.error is None:
        assert_same("XML", b"text/xml", body)
