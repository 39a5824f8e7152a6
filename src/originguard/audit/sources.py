"""Read the files given to `audit` and tell their kind from their content, not their name.

Each file is what one command prints: full CLI output, `--query` output (a bare list or object),
list commands, `kubectl get -o json|yaml`, or a CloudFormation template; UTF-8 (with or without a
BOM) or UTF-16 with a BOM, as PowerShell's `>` writes it.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any, Final

import yaml

from originguard.audit.cloudformation import (
    TemplateLoader,
    audit_template,
    is_cloudformation,
    template_body,
    template_kinds,
)
from originguard.audit.cloudfront import audit_cloudfront, audit_distribution, is_cloudfront, is_distribution
from originguard.audit.elbv2 import ElbParts, collect_elbv2, collect_elbv2_list, elbv2_list_kind, is_elbv2
from originguard.audit.facts import Facts
from originguard.audit.ingress import audit_ingresses, is_kubernetes
from originguard.audit.route53 import audit_route53, is_route53
from originguard.audit.shape import Reader
from originguard.audit.wafv2 import audit_wafv2, is_wafv2, is_web_acl
from originguard.errors import ConfigError

_FIELD_NAME = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)*")
EXPECTED: Final = (
    "aws cloudfront get-distribution-config / get-distribution / list-distributions, "
    "aws elbv2 describe-load-balancers / describe-listeners / describe-rules / describe-ssl-policies, "
    "aws ec2 describe-security-groups, aws wafv2 get-web-acl, aws route53 list-resource-record-sets "
    "(full or --query output), kubectl get ingress -o json|yaml, or a CloudFormation template "
    "(or aws cloudformation get-template)"
)


def read_file(path: Path) -> tuple[Facts, ElbParts]:
    """Audit one file's documents; ELBv2 pieces are only collected (checked once, over all files)."""
    reader = Reader(str(path))
    docs = read_documents(path)
    facts, elb = Facts(), ElbParts()
    if is_kubernetes(docs):
        facts.merge(audit_ingresses(reader, docs))
        return facts, elb
    for index, doc in enumerate(docs):
        where = f"documents[{index}]" if len(docs) > 1 else ""
        if not _read_document(reader, doc, facts, elb):
            raise ConfigError(
                reader.file, where, f"not an export originguard reads ({_describe(doc)}); expected {EXPECTED}"
            )
    return facts, elb


def _read_document(reader: Reader, doc: Any, facts: Facts, elb: ElbParts) -> bool:
    """Audit (or collect) one document; False when it is no shape the audit knows."""
    if isinstance(doc, list):
        return _read_list(reader, doc, facts, elb)
    if (body := template_body(reader, doc)) is not None:  # aws cloudformation get-template
        if not template_kinds(body):
            return False
        facts.merge(audit_template(reader, body, "TemplateBody"))
    elif is_cloudformation(doc):
        if not template_kinds(doc):
            return False
        facts.merge(audit_template(reader, doc))
    elif is_cloudfront(doc):
        facts.merge(audit_cloudfront(reader, doc))
    elif isinstance(doc, dict) and isinstance(doc.get("DistributionList"), dict):
        summaries = reader.objects(doc["DistributionList"], "Items", "DistributionList")
        _distributions(reader, summaries, "DistributionList.Items", facts)
    elif is_wafv2(doc):
        facts.merge(audit_wafv2(reader, doc))
    elif is_web_acl(doc):
        facts.merge(audit_wafv2(reader, {"WebACL": doc}))
    elif is_route53(doc):
        facts.merge(audit_route53(reader, doc))
    elif is_elbv2(doc):
        collect_elbv2(reader, doc, elb)
        facts.kinds.add("elbv2")
    else:
        return False
    return True


def _read_list(reader: Reader, doc: list[Any], facts: Facts, elb: ElbParts) -> bool:
    """A `--query` list: ELBv2 objects, distribution summaries or Route 53 record sets."""
    if kind := elbv2_list_kind(doc):
        collect_elbv2_list(reader, kind, doc, elb)
        facts.kinds.add("elbv2")
        return True
    if doc and all(is_distribution(item) for item in doc):
        _distributions(reader, doc, "", facts)
        return True
    if doc and all(isinstance(r, dict) and {"Name", "Type"} <= r.keys() for r in doc):
        facts.merge(audit_route53(reader, {"ResourceRecordSets": doc}))
        return True
    return False


def _distributions(reader: Reader, summaries: list[Any], base: str, facts: Facts) -> None:
    """list-distributions summaries: each carries the fields of its DistributionConfig."""
    for i, summary in enumerate(summaries):
        summary = reader.obj(summary, f"{base}[{i}]")
        dist_id = reader.text(summary, "Id", f"{base}[{i}]") or str(i)
        where = f"{base}[{i}]({dist_id})"
        facts.merge(audit_distribution(reader, summary, where, f"{reader.file}#{dist_id}"))


def read_documents(path: Path) -> list[Any]:
    """Parse JSON (one object or several concatenated, as CLI output is often saved) or YAML."""
    file = str(path)
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(file, "", "cannot read the file: it is neither UTF-8 nor UTF-16 text") from None
    stripped = text.lstrip()
    if not stripped:
        raise ConfigError(file, "", "the file is empty")
    if stripped[0] in "{[" or path.suffix.lower() == ".json":
        return _json_documents(file, text)
    try:
        docs = [d for d in yaml.load_all(text, Loader=TemplateLoader) if d is not None]
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


def decode(data: bytes) -> str:
    """Text of a file: UTF-16 when it starts with a BOM (PowerShell 5's `>`), else UTF-8 (BOM dropped)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # the codec reads the BOM to pick the byte order
    return data.decode("utf-8-sig")


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
    if isinstance(doc, list):
        return "an empty list" if not doc else f"a list of {len(doc)} item(s) of no known kind"
    return f"top level is a {type(doc).__name__}"
