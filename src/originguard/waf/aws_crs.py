"""AWS managed rule groups in terms of the OWASP CRS: which CRS rules cover each, and what differs.

`waf import` turns every AWS group CRS covers into one `owasp-crs` rule (CRS scores all its rules
together, so a second copy would only run everything twice) and lists, per group, what CRS does not
do the same way. The families are CRS's rule files (`REQUEST-942-APPLICATION-ATTACK-SQLI` = 942).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class CrsCoverage(NamedTuple):
    """What an AWS group maps to: the CRS rule families, and the differences worth a note."""

    families: tuple[int, ...]
    differences: tuple[str, ...]


COVERAGE: Final[dict[str, CrsCoverage]] = {
    "AWSManagedRulesCommonRuleSet": CrsCoverage(
        (920, 930, 931, 934, 941),
        (
            "SizeRestrictions_QUERYSTRING/_Cookie_HEADER/_BODY/_URIPATH have no CRS rule at PL1: add "
            "size_constraint rules",
            "NoUserAgent_HEADER is CRS 920320, paranoia level 2",
            "UserAgent_BadBots_HEADER is CRS 913100 (scanner names), a different list",
            "EC2MetaDataSSRF_* is CRS 934110/934120 (SSRF), which matches more than 169.254.169.254",
            "RestrictedExtensions_* is CRS 920440 (restricted_extensions in crs-setup.conf)",
        ),
    ),
    "AWSManagedRulesSQLiRuleSet": CrsCoverage(
        (942,),
        (
            "SQLi_BODY/_COOKIE/_QUERYARGUMENTS: CRS 942 (libinjection 942100 and ~60 regex rules) "
            "inspects arguments, cookies and body fields by name, not the raw body",
            "SQLiExtendedPatterns_* corresponds to CRS 942 rules of paranoia levels 2-4",
        ),
    ),
    "AWSManagedRulesKnownBadInputsRuleSet": CrsCoverage(
        (932, 944),
        (
            "Log4JRCE_* is CRS 944150/944151/944152; JavaDeserializationRCE_* is CRS 944 (Java attacks)",
            "Host_localhost_HEADER has no CRS equivalent (920350 only flags a numeric Host)",
            "PROPFIND_METHOD is CRS 911100 (tx.allowed_methods in crs-setup.conf)",
            "ExploitablePaths_URIPATH is partly CRS 930130 (restricted files)",
        ),
    ),
    "AWSManagedRulesLinuxRuleSet": CrsCoverage(
        (930, 932),
        ("LFI_URIPATH/_QUERYSTRING/_HEADER: CRS 930 (lfi-os-files.data) inspects more headers",),
    ),
    "AWSManagedRulesUnixRuleSet": CrsCoverage(
        (932,),
        ("UNIXShellCommands*: CRS 932 (unix-shell.data, 932230-932260), scored, not blocking alone",),
    ),
    "AWSManagedRulesWindowsRuleSet": CrsCoverage(
        (932,),
        ("WindowsShellCommands_* / PowerShellCommands_*: CRS 932110/932120/932370 and friends",),
    ),
    "AWSManagedRulesPHPRuleSet": CrsCoverage(
        (933,),
        ("PHPHighRiskMethodsVariables_*: CRS 933 (php-function-names, php-variables)",),
    ),
}

# CRS families an ACL gets although no imported AWS group asked for them.
FAMILIES: Final[dict[int, str]] = {
    913: "scanner detection",
    920: "protocol enforcement",
    921: "protocol attacks (request smuggling, header injection)",
    922: "multipart attacks",
    930: "local file inclusion",
    931: "remote file inclusion",
    932: "remote command execution",
    933: "PHP injection",
    934: "generic attacks (Node.js, SSRF)",
    941: "cross-site scripting",
    942: "SQL injection",
    943: "session fixation",
    944: "Java attacks",
    950: "response data leakage (at cache fill)",
}


def extra_families(groups: list[str]) -> list[str]:
    """The CRS families none of `groups` covers, as `942 (SQL injection)` strings."""
    covered = {family for group in groups for family in COVERAGE[group].families}
    return [f"{family} ({what})" for family, what in FAMILIES.items() if family not in covered]
