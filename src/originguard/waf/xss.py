# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Cross-site scripting detection by tokenising HTML, in the spirit of libinjection's xss module.

The value is read with (simplified) HTML5 tokenisation rules in each context it could be reflected into:
page text, and inside a double-, single- or un-quoted attribute value (only when it holds the character
that would end that value). Tags and attributes are then judged on what they are, not on words:

- a tag from libinjection's blacklist (script, iframe, object, embed, base, meta, style, ...);
- an event-handler attribute (`on...=`) on any tag;
- a URL attribute (href, src, action, formaction, ...) whose value, entity-decoded and with whitespace
  and control characters removed (browsers ignore them there), starts with `javascript:`, `vbscript:`,
  or a `data:` URL that is not an image;
- a `style` that can run code (`expression(`, `javascript:`, `-moz-binding`, `behavior:`);
- a whole value that is a `javascript:` URL with code after it (reflected into an href).

So `<b>bold</b>`, `a < b`, `I <3 this` and `<a href="https://example.com">` pass.
"""

from __future__ import annotations

import html
import re
from typing import Final

_TAG_NAME: Final = re.compile(r"[a-zA-Z][^\s/<>\x00]*")
_ATTR: Final = re.compile(
    r"""[\s/]*([^\s/<>=]+)(?:\s*=\s*("[^"]*"?|'[^']*'?|[^\s>]*))?""",
)
_IN_TAG_GAP: Final = re.compile(r"[\s/]*")
_GAP: Final = re.compile(r"[\s>]")
_NOISE: Final = re.compile(r"[\s\x00-\x20\x7f]+")
_BAD_TAGS: Final = frozenset(
    [
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "base",
        "meta",
        "link",
        "style",
        "import",
        "isindex",
        "noscript",
        "handler",
        "listener",
        "vmlframe",
        "xml",
        "xss",
        "comment",
        "svg",
        "math",
        "template",
        "portal",
    ]
)
_URL_ATTRS: Final = frozenset(
    [
        "href",
        "src",
        "action",
        "formaction",
        "data",
        "background",
        "dynsrc",
        "lowsrc",
        "poster",
        "codebase",
        "xlink:href",
        "srcdoc",
    ]
)
_BAD_SCHEMES: Final = ("javascript:", "vbscript:", "livescript:", "mocha:")
_SAFE_DATA: Final = ("data:image/png", "data:image/gif", "data:image/jpeg", "data:image/webp")
_BAD_STYLE: Final = ("expression(", "javascript:", "-moz-binding", "behavior:", "vbscript:")
_JS_URL: Final = re.compile(r"^\s*(?:javascript|vbscript|livescript)\s*:.*[(`=]", re.IGNORECASE | re.DOTALL)


# Every reason detect_xss gives needs one of these in the lower-cased value: `<` (a tag); an attribute
# it judges, `on...=` or a URL/style attribute name before its `=` (a name may start anywhere: the
# scan starts after a quote or a space); `javascript:` and kin (matched case-insensitively, where `ſ`
# is an `s` and `ı`, `İ` (lower-cased: i + U+0307) are an `i`); NUL, which the scan deletes first.
# A bare `=` or `:` sent every URL and query string to the scan (1.5 µs on a Referer); each branch
# starts with a literal, so that it joins flat into a field's search.
_SUSPECT_NAMES: Final = (
    "href",
    "src",
    "action",
    "data",
    "background",
    "poster",
    "codebase",
    "srcdoc",
    "style",
)
SUSPECT: Final = re.compile(
    "|".join(
        [
            "<",
            "\x00",
            "\u017f",
            "\u0131",
            "\u0307",
            r"on[^\s/<>=]+\s*=",
            *(rf"{name}\s*=" for name in _SUSPECT_NAMES),  # the URL attributes end with one of these
            *(rf"{scheme}\s*:" for scheme in ("javascript", "vbscript", "livescript")),
        ]
    )
)


def detect_xss(value: str) -> str | None:
    """Why `value` is XSS (`tag:script`, `attr:onerror`, ...) if it is, else None."""
    if "<" not in value and "=" not in value and ":" not in value:
        return None  # no tag, no attribute, no URL scheme: nothing a browser would run
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _JS_URL.match(value):
        return "url:javascript"
    if "<" in value:
        reason = _scan(value, 0, in_tag=False)
        if reason:
            return reason
    elif "=" not in value:
        return None  # the scans below judge tags (need `<`) and attribute values (need `=`)
    for quote in ('"', "'"):
        at = value.find(quote)
        if at >= 0:
            reason = _scan(value, at + 1, in_tag=True)
            if reason:
                return reason
    gap = _GAP.search(value)
    if gap is not None:
        return _scan(value, gap.start(), in_tag=True)
    return None


def _scan(text: str, pos: int, *, in_tag: bool) -> str | None:
    """Walk tags from `pos`; `in_tag` means we start among the attributes of an open tag."""
    if in_tag:
        reason, pos = _attributes(text, pos)
        if reason:
            return reason
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            return None
        pos = lt + 1
        if text.startswith("!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return None
            pos = end + 3
            continue
        name = _TAG_NAME.match(text, pos)
        if name is None:
            continue  # `a < b`, `</b>`, `<3`: text, or an end tag, which cannot run code
        tag = name.group().lower()
        if tag in _BAD_TAGS or tag.rpartition(":")[2] in _BAD_TAGS:
            return f"tag:{tag}"
        reason, pos = _attributes(text, name.end())
        if reason:
            return reason


def _attributes(text: str, pos: int) -> tuple[str | None, int]:
    """Judge the attributes from `pos` to the end of the tag; return a reason and where the tag ends."""
    length = len(text)
    while pos < length:
        pos = _IN_TAG_GAP.match(text, pos).end()  # type: ignore[union-attr]  # `*` always matches
        if pos >= length or text[pos] == ">":
            return None, pos + 1
        attr = _ATTR.match(text, pos)
        if attr is None:
            return None, pos  # a `<` inside a tag starts a new tag for our purposes: <scr<script>
        name = attr.group(1).lower()
        raw = attr.group(2)
        pos = max(attr.end(), pos + 1)
        if raw is None:
            continue
        reason = _judge(name, raw)
        if reason:
            return reason, pos
    return None, pos


def _judge(name: str, raw: str) -> str | None:
    if name.startswith("on") and len(name) > 2 and name[2:].isalpha():
        return f"attr:{name}"
    if name in _URL_ATTRS or name == "style":
        value = raw.strip("\"'")
        value = (
            _NOISE.sub("", html.unescape(value)).lower() if "&" in value else _NOISE.sub("", value).lower()
        )
        if name == "style":
            return next((f"style:{bad}" for bad in _BAD_STYLE if bad in value), None)
        if name == "srcdoc" and "<" in value:
            return "attr:srcdoc"
        if value.startswith(_BAD_SCHEMES):
            return f"url:{name}"
        if value.startswith("data:") and not value.startswith(_SAFE_DATA):
            return f"url:{name}"
    return None
