"""Security-group rules in front of the load balancer: port 80 closed, 443 only from CloudFront."""

from __future__ import annotations

from typing import Final

from originguard.audit.facts import Facts
from originguard.audit.shape import JsonObject, Reader

CLOUDFRONT_PREFIX_LIST: Final = "com.amazonaws.global.cloudfront.origin-facing"
_ANYWHERE: Final = frozenset({"0.0.0.0/0", "::/0"})


def audit_security_groups(facts: Facts, reader: Reader, group: JsonObject, path: str) -> None:
    """Check one `SecurityGroups[]` entry of describe-security-groups output."""
    name = reader.text(group, "GroupId", path) or reader.text(group, "GroupName", path)
    base = f"{path}({name})"
    for i, permission in enumerate(reader.objects(group, "IpPermissions", path)):
        where = f"{base}.IpPermissions[{i}]"
        sources = _sources(reader, permission, where)
        if _covers(reader, permission, where, 80):
            facts.add(
                "no-http-listener",
                "fail",
                reader.file,
                where,
                "the security group opens port 80",
                "remove the inbound rule for port 80",
            )
        if not _covers(reader, permission, where, 443):
            continue
        if sources & _ANYWHERE:
            facts.add(
                "network",
                "warn",
                reader.file,
                where,
                "port 443 is open to the whole internet, not only to CloudFront",
                f"allow 443 only from the managed prefix list {CLOUDFRONT_PREFIX_LIST}",
            )
        elif any(s.startswith("pl-") for s in sources):
            facts.add(
                "network",
                "pass",
                reader.file,
                where,
                f"port 443 is limited to a prefix list (confirm it is {CLOUDFRONT_PREFIX_LIST})",
            )
        else:
            facts.add(
                "network", "info", reader.file, where, "port 443 is open to specific addresses or groups"
            )


def _covers(reader: Reader, permission: JsonObject, where: str, port: int) -> bool:
    """Whether the permission admits TCP to `port` (protocol -1 is all traffic)."""
    protocol = reader.text(permission, "IpProtocol", where)
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    low, high = (
        reader.text(permission, "FromPort", where, "0"),
        reader.text(permission, "ToPort", where, "65535"),
    )
    try:
        return int(low) <= port <= int(high)
    except ValueError:
        raise reader.error(f"{where}.FromPort", "FromPort and ToPort must be numbers") from None


def _sources(reader: Reader, permission: JsonObject, where: str) -> set[str]:
    """CIDRs and prefix-list ids the permission admits."""
    found = {reader.text(r, "CidrIp", where) for r in reader.objects(permission, "IpRanges", where)}
    found |= {reader.text(r, "CidrIpv6", where) for r in reader.objects(permission, "Ipv6Ranges", where)}
    found |= {
        reader.text(r, "PrefixListId", where) for r in reader.objects(permission, "PrefixListIds", where)
    }
    return found


def audit_ingress_network(facts: Facts, file: str, group: str, annotations: list[dict[str, str]]) -> None:
    """An IngressGroup's inbound rules, from its annotations (merged over the group)."""
    prefix = "alb.ingress.kubernetes.io/"
    notes = {k.removeprefix(prefix): v for a in annotations for k, v in a.items() if k.startswith(prefix)}
    where = f"{group}.security-group-prefix-lists"
    if "security-groups" in notes:
        # The controller then ignores security-group-prefix-lists and inbound-cidrs.
        facts.add(
            "network", "info", file, f"{group}.security-groups", "own security groups: audit their export"
        )
    elif notes.get("scheme", "internal") == "internal":
        facts.add("network", "pass", file, f"{group}.scheme", "an internal load balancer")
    elif "security-group-prefix-lists" in notes:
        facts.add(
            "network",
            "pass",
            file,
            where,
            f"443 is limited to prefix lists (confirm {CLOUDFRONT_PREFIX_LIST})",
        )
    else:
        facts.add(
            "network",
            "warn",
            file,
            where,
            "an internet-facing ALB open to 0.0.0.0/0",
            f"set security-group-prefix-lists to the id of {CLOUDFRONT_PREFIX_LIST}",
        )
