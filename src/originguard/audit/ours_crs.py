"""`check` on `owasp-crs` groups: the rule set loads, and what runs (rules, CRS version, PL, mode)."""

from __future__ import annotations

from originguard.audit.facts import Facts
from originguard.config.loader import LoadedConfig
from originguard.config.waf import ManagedStatement
from originguard.waf.crs_load import CrsLoadError, load_crs
from originguard.waf.crs_setup import Mode, crs_sources


def check_crs(facts: Facts, loaded: LoadedConfig) -> None:
    """One finding per `owasp-crs` rule: pass with what it loaded, or fail naming the file and line."""
    waf = loaded.config.waf
    if waf is None:
        return
    for name, acl in waf.web_acls.items():
        for index, rule in enumerate(acl.rules):
            statement = rule.statement
            if not isinstance(statement, ManagedStatement):
                continue
            where = f"waf.web_acls.{name}.rules[{index}].statement.managed"
            group = statement.managed
            mode: Mode = "count" if rule.action == "count" else "block"
            sources = crs_sources(
                group, mode=mode, body_limit=acl.body_inspection_kib * 1024, resolve=loaded.resolve_path
            )
            try:
                crs = load_crs(sources)
            except CrsLoadError as exc:
                facts.add(
                    "waf-crs",
                    "fail",
                    loaded.source,
                    where,
                    f"the rule set does not load: {exc}",
                    "fix or remove that directive, or point rules_dir at an unchanged CRS release",
                )
                continue
            engine = "SecRuleEngine On" if mode == "block" else "DetectionOnly"
            facts.add(
                "waf-crs",
                "pass",
                loaded.source,
                where,
                f"owasp-crs: OWASP CRS {crs.version}, {crs.rules} rules loaded, paranoia level "
                f"{group.paranoia_level}, {mode} mode ({engine}), inbound threshold "
                f"{group.anomaly_threshold}, {len(group.exclusions)} exclusions",
            )
