"""`originguard check`: the four checks and the extras over our own config (src/originguard/config)."""

from __future__ import annotations

import stat
from collections import defaultdict

from originguard.audit.facts import Facts
from originguard.audit.ours_crs import check_crs
from originguard.audit.ours_gate import check_gate
from originguard.audit.ours_secrets import check_secrets
from originguard.audit.report import Report
from originguard.audit.secret_strength import sha256_hex
from originguard.config.edge import DistributionConfig
from originguard.config.loader import LoadedConfig
from originguard.config.values import SecretRef
from originguard.config.waf import WafConfig


def check_configs(loaded: list[LoadedConfig]) -> Report:
    """Run every static check on each config, then the cross-environment secret reuse check."""
    facts = Facts()
    for one in loaded:
        config, source = one.config, one.source
        if config.distribution is not None:
            _distribution(facts, source, config.distribution, config.waf)
        if config.gate is not None:
            check_gate(facts, source, config.gate, _origin_secret_headers(config.distribution))
        check_secrets(facts, one)
        check_crs(facts, one)
        _secret_file_modes(facts, one)
    _reuse(facts, loaded)
    return Report(tuple(facts.findings))


def _origin_secret_headers(distribution: DistributionConfig | None) -> set[tuple[str, str]] | None:
    """(lower-cased header name, secret name) pairs the edge sends; None when there is no distribution."""
    if distribution is None:
        return None
    return {
        (name.lower(), value.secret)
        for origin in distribution.origins
        for name, value in origin.custom_headers.items()
        if isinstance(value, SecretRef)
    }


def _distribution(facts: Facts, source: str, dist: DistributionConfig, waf: WafConfig | None) -> None:
    behaviors = [("distribution.default_behavior", dist.default_behavior)]
    behaviors += [(f"distribution.behaviors[{i}]", b) for i, b in enumerate(dist.behaviors)]
    viewer = {where: b.viewer_protocol_policy or dist.viewer_protocol_policy for where, b in behaviors}
    for where, policy in viewer.items():
        if policy == "allow-all":
            facts.add(
                "viewer-protocol",
                "fail",
                source,
                f"{where}.viewer_protocol_policy",
                "allow-all lets viewers use plain HTTP",
                "use redirect-to-https",
            )
        else:
            facts.add(
                "viewer-protocol",
                "pass",
                source,
                f"{where}.viewer_protocol_policy",
                f"viewers are held to HTTPS ({policy})",
            )
    for i, origin in enumerate(dist.origins):
        where = f"distribution.origins[{i}]({origin.id})"
        on_origin = [viewer[w] for w, b in behaviors if b.origin == origin.id]
        fix = "set protocol_policy: https-only"
        if origin.protocol_policy == "https-only":
            facts.add(
                "origin-https-only",
                "pass",
                source,
                f"{where}.protocol_policy",
                "the edge reaches the origin over HTTPS only",
            )
        elif origin.protocol_policy == "http-only":
            facts.add(
                "origin-https-only",
                "fail",
                source,
                f"{where}.protocol_policy",
                "http-only sends the secret header in clear text",
                fix,
            )
        elif "allow-all" in on_origin:
            facts.add(
                "origin-https-only",
                "fail",
                source,
                f"{where}.protocol_policy",
                "match-viewer with allow-all: HTTP viewers expose the secret",
                fix,
            )
        else:
            facts.add(
                "origin-https-only",
                "warn",
                source,
                f"{where}.protocol_policy",
                "match-viewer: HTTPS to the origin depends on the viewer",
                fix,
            )
        secret_headers = [n for n, v in origin.custom_headers.items() if isinstance(v, SecretRef)]
        if not secret_headers:
            facts.add(
                "origin-header",
                "fail",
                source,
                f"{where}.custom_headers",
                "the origin gets no header taken from secrets: the gate cannot tell the edge from a viewer",
                "add custom_headers: {X-Origin-Verify: {secret: origin-verify}}",
            )
    _waf(facts, source, dist.web_acl, waf)


def _waf(facts: Facts, source: str, name: str | None, waf: WafConfig | None) -> None:
    where = "distribution.web_acl"
    acls = waf.web_acls if waf is not None else {}
    if name is None:
        facts.add(
            "waf-attached",
            "warn",
            source,
            where,
            "no web ACL is attached to the distribution",
            "set web_acl to an ACL under waf.web_acls",
        )
        return
    acl = acls.get(name)
    if acl is None:
        facts.add(
            "waf-attached",
            "fail",
            source,
            where,
            f"web ACL {name!r} is not defined under waf.web_acls",
            f"define waf.web_acls.{name}",
        )
        return
    facts.add("waf-attached", "pass", source, where, f"web ACL {name!r} is attached")
    actions = [r.action for r in acl.rules]
    if actions and all(a == "count" for a in actions):
        facts.add(
            "waf-rules",
            "warn",
            source,
            f"waf.web_acls.{name}.rules",
            "every rule only counts",
            "set action: block on the rules meant to stop requests",
        )
    elif acl.default_action == "allow" and "block" not in actions:
        facts.add(
            "waf-rules",
            "warn",
            source,
            f"waf.web_acls.{name}",
            "allows by default and no rule blocks",
            "add blocking rules",
        )


def _secret_file_modes(facts: Facts, one: LoadedConfig) -> None:
    for name, where in one.config.secrets.items():
        if where.file is None:
            continue
        path = one.resolve_path(where.file)
        field = f"secrets.{name}.file"
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            facts.add(
                "secret-file-mode",
                "warn",
                one.source,
                field,
                f"{path} cannot be read",
                f"originguard secret new {path}",
            )
            continue
        if mode & 0o077:
            facts.add(
                "secret-file-mode",
                "fail",
                one.source,
                field,
                f"{path} has mode {mode:04o}: others can read it",
                f"chmod 600 {path}",
            )
        else:
            facts.add("secret-file-mode", "pass", one.source, field, f"{path} has mode {mode:04o}")


def _reuse(facts: Facts, loaded: list[LoadedConfig]) -> None:
    """The same secret value in two environments: a leak in one opens the other."""
    owners: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for one in loaded:
        for name, values in one.secrets.items():
            for value in values.accepted:
                owners[sha256_hex(value.reveal())].add((one.source, name))
    for digest, where in owners.items():
        sources = {s for s, _ in where}
        if len(sources) < 2:
            continue
        for source, name in sorted(where):
            others = ", ".join(sorted(sources - {source}))
            facts.add(
                "secret-reuse",
                "fail",
                source,
                f"secrets.{name}",
                f"a value (sha256:{digest[:8]}) is also used by {others}",
                "give each environment its own secret",
            )
