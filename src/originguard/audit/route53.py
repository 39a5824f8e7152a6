"""Audit Route 53 ResourceRecordSets: latency sets, CloudFront aliases, names that reach an ALB."""

from __future__ import annotations

from collections import Counter
from typing import Final

from originguard.audit.facts import Facts
from originguard.audit.shape import JsonObject, Reader

CLOUDFRONT_ZONE: Final = "Z2FDTNDATAQYW2"  # the fixed hosted zone of every CloudFront alias


def is_route53(doc: object) -> bool:
    """True for list-resource-record-sets output."""
    return isinstance(doc, dict) and "ResourceRecordSets" in doc


def audit_route53(reader: Reader, doc: JsonObject) -> Facts:
    """Latency records unique per region, CloudFront aliases well-formed, origin names noted."""
    facts = Facts(kinds={"route53"})
    records = reader.objects(doc, "ResourceRecordSets", "")
    latency_regions: Counter[tuple[str, str, str]] = Counter()
    latency_sets: set[tuple[str, str]] = set()
    plain_sets: set[tuple[str, str]] = set()
    problems = 0
    for i, record in enumerate(records):
        name, kind = reader.text(record, "Name", f"ResourceRecordSets[{i}]"), reader.text(record, "Type", "")
        where = f"ResourceRecordSets[{i}]({name} {kind})"
        region = reader.text(record, "Region", where)
        if region:
            latency_regions[(name, kind, region)] += 1
            latency_sets.add((name, kind))
            if not reader.text(record, "SetIdentifier", where):
                problems += 1
                facts.add(
                    "dns-records",
                    "warn",
                    reader.file,
                    f"{where}.SetIdentifier",
                    "a latency record needs a SetIdentifier",
                    "add a unique SetIdentifier",
                )
        else:
            plain_sets.add((name, kind))
        problems += _alias(
            facts,
            reader,
            reader.field_obj(record, "AliasTarget", where),
            name,
            f"{where}.AliasTarget",
            bool(region),
        )
    for (name, kind, region), count in latency_regions.items():
        if count > 1:
            problems += 1
            facts.add(
                "dns-records",
                "warn",
                reader.file,
                f"{name} {kind}",
                f"{count} latency records for {region}; one is allowed",
                "keep one record per region",
            )
    for name, kind in sorted(latency_sets & plain_sets):
        problems += 1
        facts.add(
            "dns-records",
            "warn",
            reader.file,
            f"{name} {kind}",
            "a non-latency record shares the name and type of a latency set",
            "remove it or make it a latency record",
        )
    if not problems:
        facts.add(
            "dns-records", "pass", reader.file, "ResourceRecordSets", f"{len(records)} record(s) consistent"
        )
    return facts


def _alias(facts: Facts, reader: Reader, alias: JsonObject, name: str, where: str, latency: bool) -> int:
    """Check one AliasTarget; return how many problems it had."""
    target = reader.text(alias, "DNSName", where).lower().rstrip(".")
    if target.endswith(".cloudfront.net"):
        bad = 0
        if reader.text(alias, "HostedZoneId", where) != CLOUDFRONT_ZONE:
            bad += 1
            facts.add(
                "dns-records",
                "warn",
                reader.file,
                f"{where}.HostedZoneId",
                "a CloudFront alias uses another zone",
                f"use {CLOUDFRONT_ZONE}",
            )
        if alias.get("EvaluateTargetHealth") is True:
            bad += 1
            facts.add(
                "dns-records",
                "warn",
                reader.file,
                f"{where}.EvaluateTargetHealth",
                "CloudFront aliases cannot evaluate target health",
                "set it to false",
            )
        return bad
    if ".elb." in target or target.endswith(".elb.amazonaws.com"):
        note = "a latency set of load balancers" if latency else "resolves straight to a load balancer"
        facts.add(
            "dns-records",
            "info",
            reader.file,
            where,
            f"{name} is {note}: CloudFront validates the ALB certificate for it (https-only), "
            "and anyone resolving it can reach the ALB, so the header rule must hold",
        )
    return 0
