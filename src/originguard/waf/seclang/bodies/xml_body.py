"""XML bodies: what ModSecurity's `XML:/*` and `XML://@*` read, without its entity expansion.

`XML:/*` is the string value of the root element (libxml2's xmlNodeGetContent: every text and
CDATA node below it, in order; no comments, no processing instructions) and `XML://@*` every
attribute value in document order (namespace declarations are not attributes in XPath). A body
that is not well-formed sets REQBODY_ERROR, and like ModSecurity's push parser we keep what was
read before the error.

Divergence on purpose: ModSecurity (libxml2) expands internal entities; this refuses any
entity declaration (as defusedxml does) so an XXE or a billion-laughs body can never expand or
fetch anything here — it is a parse error instead, which CRS's REQBODY_ERROR rule blocks.
External DTDs and entities are never loaded (expat without an external-entity handler).
"""

from __future__ import annotations

from typing import Final
from xml.parsers import expat

from originguard.waf.seclang.bodies.result import BodyResult

_FAILED: Final = "XML parsing error: XML: Failed to parse document."


class _EntityDeclared(Exception):
    """A DTD declared an entity: refused before it can be referenced."""


class _Collector:
    __slots__ = ("attributes", "depth", "root_seen", "text")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.depth = 0
        self.root_seen = False

    def start(self, _name: str, attrs: list[str]) -> None:
        self.depth += 1
        self.root_seen = True
        for i in range(0, len(attrs), 2):
            name = attrs[i]
            if name != "xmlns" and not name.startswith("xmlns:"):
                self.attributes.append(attrs[i + 1])

    def end(self, _name: str) -> None:
        self.depth -= 1

    def characters(self, data: str) -> None:
        if self.depth > 0:  # text outside the root element is not part of its string value
            self.text.append(data)


def _refuse_entity(*_args: object) -> None:
    raise _EntityDeclared


def parse_xml(body: bytes) -> BodyResult:
    """The XML:/* text and XML://@* values of a body; REQBODY_ERROR_MSG if it is not well-formed."""
    collector = _Collector()
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.specified_attributes = True  # DTD-defaulted attributes are not in libxml2's tree either
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.characters
    parser.EntityDeclHandler = _refuse_entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    error: str | None = None
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _EntityDeclared):
        error = _FAILED
    return BodyResult(
        "XML",
        error=error,
        xml_text="".join(collector.text).encode("utf-8", "surrogatepass") if collector.root_seen else None,
        xml_attributes=tuple(value.encode("utf-8", "surrogatepass") for value in collector.attributes),
    )
