"""CloudFormation templates: the distributions they declare, audited like get-distribution-config.

A template writes `AWS::CloudFront::Distribution` properties with plain lists, `OriginCustomHeaders`
and `OriginSSLProtocols`; `audit_distribution` reads both spellings. Load balancer resources in a
template are named but not audited (their listeners and rules are audited from describe-* output).
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from originguard.audit.cloudfront import audit_distribution
from originguard.audit.facts import Facts
from originguard.audit.shape import JsonObject, Reader, join

DISTRIBUTION: Final = "AWS::CloudFront::Distribution"
# Resources whose settings decide checks 2-4 but that the audit reads from describe-* output instead.
NOT_AUDITED: Final = frozenset(
    {
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::WAFv2::WebACL",
    }
)


def is_cloudformation(doc: object) -> bool:
    """A template: `Resources` whose entries each carry a `Type` like `AWS::Service::Thing`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        return False
    resources = doc["Resources"].values()
    return bool(resources) and all(
        isinstance(r, dict) and str(r.get("Type", "")).count("::") == 2 for r in resources
    )


def template_kinds(doc: JsonObject) -> set[str]:
    """The resource types of a template that `audit_template` reads or names."""
    types = {str(r.get("Type")) for r in doc["Resources"].values()}
    return types & (NOT_AUDITED | {DISTRIBUTION})


def template_body(reader: Reader, doc: object) -> JsonObject | None:
    """The template in `aws cloudformation get-template` output (a YAML template arrives as a string)."""
    if not isinstance(doc, dict) or "TemplateBody" not in doc:
        return None
    body = doc["TemplateBody"]
    if isinstance(body, str):
        try:
            body = yaml.load(body, Loader=TemplateLoader)  # JSON templates parse as YAML too
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark else ""
            raise reader.error(
                "TemplateBody", f"YAML syntax error: {where}{getattr(exc, 'problem', None) or 'invalid'}"
            ) from None
    return body if is_cloudformation(body) else None


def audit_template(reader: Reader, doc: JsonObject, base: str = "") -> Facts:
    """Every distribution of the template; a note for each load balancer resource left to describe-*."""
    facts = Facts()
    for name, resource in reader.field_obj(doc, "Resources", base).items():
        where = join(base, f"Resources.{name}")
        kind = str(resource.get("Type"))
        if kind == DISTRIBUTION:
            properties = reader.field_obj(resource, "Properties", where, required=True)
            config = reader.field_obj(properties, "DistributionConfig", f"{where}.Properties", required=True)
            base = f"{where}.Properties.DistributionConfig"
            facts.merge(audit_distribution(reader, config, base, f"{reader.file}#{name}"))
        elif kind in NOT_AUDITED:
            facts.add(
                "coverage",
                "info",
                reader.file,
                where,
                f"{kind} is not audited from a template (references resolve only at deploy time)",
                "audit the deployed stack's describe-* output",
            )
    return facts


class TemplateLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short forms: `!Ref X` → `{"Ref": "X"}`, `!Sub` → `Fn::Sub`."""


def _function(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _function)
