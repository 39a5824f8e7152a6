"""Read the files given to `audit` and tell their kind from their content, not their name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from originguard.audit.cloudfront import audit_cloudfront, is_cloudfront
from originguard.audit.elbv2 import ElbParts, collect_elbv2, is_elbv2
from originguard.audit.facts import Facts
from originguard.audit.ingress import audit_ingresses, is_kubernetes
from originguard.audit.route53 import audit_route53, is_route53
from originguard.audit.shape import Reader
from originguard.audit.wafv2 import audit_wafv2, is_wafv2
from originguard.errors import ConfigError

_FIELD_NAME = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)*")
EXPECTED = (
    "a CloudFront distribution config, ELBv2 listeners/rules/ssl policies, security groups, "
    "a WAFv2 web ACL, Route 53 ResourceRecordSets or Kubernetes Ingress manifests"
)


def read_file(path: Path, elb: ElbParts) -> Facts:
    """Audit one file's documents; ELBv2 pieces are only collected into `elb` (checked once, later)."""
    reader = Reader(str(path))
    docs = read_documents(path)
    facts = Facts()
    if is_kubernetes(docs):
        facts.merge(audit_ingresses(reader, docs))
        return facts
    for index, doc in enumerate(docs):
        where = f"documents[{index}]" if len(docs) > 1 else ""
        if is_cloudfront(doc):
            facts.merge(audit_cloudfront(reader, doc))
        elif is_wafv2(doc):
            facts.merge(audit_wafv2(reader, doc))
        elif is_route53(doc):
            facts.merge(audit_route53(reader, doc))
        elif is_elbv2(doc):
            collect_elbv2(reader, doc, elb)
            facts.kinds.add("elbv2")
        else:
            raise ConfigError(
                reader.file, where, f"unrecognised content ({_describe(doc)}); expected {EXPECTED}"
            )
    return facts


def read_documents(path: Path) -> list[Any]:
    """Parse JSON (one object or several concatenated, as CLI output is often saved) or YAML."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            file, "", f"cannot read the file: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    stripped = text.lstrip()
    if not stripped:
        raise ConfigError(file, "", "the file is empty")
    if stripped[0] in "{[" or path.suffix.lower() == ".json":
        return _json_documents(file, text)
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        # Only the parser's problem text: the context snippet may show a secret on that line.
        raise ConfigError(
            file, "", f"YAML syntax error: {where}{getattr(exc, 'problem', None) or 'invalid'}"
        ) from None
    if not docs:
        raise ConfigError(file, "", "the file holds no document")
    return docs


def _json_documents(file: str, text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return docs
        try:
            doc, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            # exc.msg names the problem and the position only, never the surrounding text.
            raise ConfigError(
                file, "", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        docs.append(doc)


def _describe(doc: object) -> str:
    """Top-level key names (never values) to help the user see what the file is."""
    if isinstance(doc, dict):
        # Only names shaped like API fields: an odd key could itself be a pasted secret.
        keys = [str(k) for k in doc if _FIELD_NAME.fullmatch(str(k))][:5]
        hidden = len(doc) - len(keys)
        shown = ", ".join(keys) + (f" and {hidden} other(s)" if hidden else "")
        return f"top-level keys: {shown or 'none'}"
    return f"top level is a {type(doc).__name__}"
