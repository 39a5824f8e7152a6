"""The SecLang an `owasp-crs` group adds around the rule files: engine settings, CRS settings, exclusions.

    sources = crs_sources(group, mode="block", body_limit=16384, resolve=loaded.resolve_path)
    load_ruleset(sources.files, before=sources.before, after=sources.after, data_dirs=sources.data_dirs)

Load order, as a ModSecurity deployment has it: the engine settings (`SecRuleEngine`, body access,
the body-processor and REQBODY_ERROR rules of ModSecurity's recommended config), the CRS settings of
the config (paranoia level, thresholds) and the path-scoped `ctl:` exclusions, then the setup file
and the rules, then the configure-time exclusions (`SecRuleRemoveById` and friends only act on rules
already defined). Pure: paths in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, Literal

from originguard.config.crs import CrsExclusion, CrsGroup

Mode = Literal["block", "count"]

# Our own rules sit outside CRS's reserved 900000-999999 and ModSecurity's 200000s.
SETTINGS_ID: Final = 19_000_001
BODY_CUT_ID: Final = 19_000_002
EXCLUSION_BASE_ID: Final = 19_000_100
# Rules of ModSecurity's modsecurity.conf-recommended that CRS expects the engine config to carry.
BODY_ERROR_ID: Final = 200002

# What makes a verdict depend on more than the request: persistent collections (IP, GLOBAL, SESSION,
# USER), sampling by UNIQUE_ID, CRS 3's DoS and IP-reputation counters. A setup that turns one on
# gets no verdict memo (waf.crs_match).
_STATEFUL: Final = re.compile(
    r"initcol|setsid|setuid|sampling_percentage|enable_default_collections|dos_burst_time_slice"
    r"|do_reput_block|high_risk_country_codes|block_search_ip",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CrsSources:
    """What to load: rule files in order, where their `.data` files are, and the text around them."""

    files: tuple[Path, ...]
    data_dirs: tuple[Path, ...]
    before: str
    after: str
    stateless: bool  # the verdict is a function of the request alone (see _STATEFUL)


def bundled_crs_dir() -> Path:
    """The CRS 4.28.0 copy shipped in the package (`data/crs`: rules, crs-setup.conf.example, LICENSE)."""
    return Path(str(resources.files("originguard") / "data" / "crs"))


def crs_sources(
    group: CrsGroup, *, mode: Mode, body_limit: int, resolve: Callable[[str], Path] | None = None
) -> CrsSources:
    """The files and SecLang text of `group`; relative paths go through `resolve` (the config's dir)."""
    bundled = bundled_crs_dir()
    rules_dir = _path(group.rules_dir, resolve) if group.rules_dir else bundled / "rules"
    setup = _path(group.setup_file, resolve) if group.setup_file else bundled / "crs-setup.conf.example"
    # CRS is included as `rules/*.conf`: alphabetical, the `.conf.example` exclusion files left out.
    rules = tuple(sorted(p for p in rules_dir.glob("*.conf") if p.is_file()))
    setup_text = setup.read_text(encoding="utf-8", errors="replace") if setup.is_file() else ""
    return CrsSources(
        files=(setup, *rules),
        data_dirs=(rules_dir,),
        before=engine_settings(group, mode=mode, body_limit=body_limit) + crs_settings(group),
        after=configure_time_exclusions(group.exclusions),
        stateless=not _STATEFUL.search(_active_lines(setup_text)),
    )


def _path(value: str, resolve: Callable[[str], Path] | None) -> Path:
    path = Path(value)
    return resolve(value) if resolve is not None and not path.is_absolute() else path


def engine_settings(group: CrsGroup, *, mode: Mode, body_limit: int) -> str:
    """The engine config of a CRS deployment (ModSecurity's recommended one, with our body limits)."""
    engine = "On" if mode == "block" else "DetectionOnly"
    inspect = group.response_inspection
    lines = [
        f"SecRuleEngine {engine}",
        "SecRequestBodyAccess On",
        f"SecResponseBodyAccess {'On' if inspect.enabled else 'Off'}",
        "SecResponseBodyMimeType text/plain text/html text/xml application/json",
        # The edge hands over at most `body_inspection_kib`; longer bodies are inspected partially.
        f"SecRequestBodyLimit {body_limit}",
        f"SecRequestBodyNoFilesLimit {body_limit}",
        "SecRequestBodyLimitAction ProcessPartial",
        f"SecResponseBodyLimit {inspect.max_body}",
        "SecResponseBodyLimitAction ProcessPartial",
        'SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" '
        '"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"',
        'SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" '
        '"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"',
        # A body cut at the limit cannot parse as JSON, XML or multipart: that is our cut, not the
        # client's error, so it is not refused (the part that arrived is still inspected).
        f'SecRule REQUEST_HEADERS:Content-Length "@gt {body_limit}" '
        f'"id:{BODY_CUT_ID},phase:1,t:none,pass,nolog,setvar:tx.originguard_body_cut=1"',
        f'SecRule REQBODY_ERROR "!@eq 0" "id:{BODY_ERROR_ID},phase:2,t:none,log,deny,status:400,'
        "msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2,chain\"",
        '    SecRule &TX:originguard_body_cut "@eq 0" "t:none"',
    ]
    return "\n".join(lines) + "\n"


def crs_settings(group: CrsGroup) -> str:
    """The config's CRS settings as one SecAction (CRS 4 and CRS 3.3 variable names both set)."""
    blocking = group.paranoia_level
    detection = group.detection_paranoia_level or blocking
    settings = [
        f"setvar:tx.blocking_paranoia_level={blocking}",
        f"setvar:tx.detection_paranoia_level={detection}",
        f"setvar:tx.paranoia_level={blocking}",  # CRS 3.3
        f"setvar:tx.executing_paranoia_level={detection}",  # CRS 3.3
        f"setvar:tx.inbound_anomaly_score_threshold={group.anomaly_threshold}",
        f"setvar:tx.outbound_anomaly_score_threshold={group.outbound_anomaly_threshold}",
    ]
    actions = ",".join([f"id:{SETTINGS_ID}", "phase:1", "pass", "t:none", "nolog", *settings])
    text = f'SecAction "{actions}"\n'
    return text + runtime_exclusions(group.exclusions)


def runtime_exclusions(exclusions: list[CrsExclusion]) -> str:
    """Path-scoped exclusions: a rule on the normalised path that runs `ctl:` before the CRS rules."""
    lines = []
    for index, exclusion in enumerate(exclusions):
        if exclusion.path_prefix is None:
            continue
        # Decoded and normalised first: `/search/../admin` must not get /search's exclusions.
        lines.append(
            f'SecRule REQUEST_FILENAME "@beginsWith {exclusion.path_prefix}" '
            f'"id:{EXCLUSION_BASE_ID + index},phase:1,pass,nolog,t:none,t:urlDecodeUni,t:normalizePath,'
            f'{_ctl(exclusion)}"'
        )
    return "".join(line + "\n" for line in lines)


def configure_time_exclusions(exclusions: list[CrsExclusion]) -> str:
    """Exclusions everywhere: the directives that edit rules once they are defined."""
    lines = []
    for exclusion in exclusions:
        if exclusion.path_prefix is not None:
            continue
        if exclusion.remove_rule is not None:
            lines.append(f"SecRuleRemoveById {exclusion.remove_rule}")
        elif exclusion.remove_tag is not None:
            lines.append(f'SecRuleRemoveByTag "{exclusion.remove_tag}"')
        elif exclusion.remove_target is not None:
            target = exclusion.remove_target
            lines.append(f'SecRuleUpdateTargetById {target.rule} "!{target.target}"')
    return "".join(line + "\n" for line in lines)


def _ctl(exclusion: CrsExclusion) -> str:
    if exclusion.remove_rule is not None:
        return f"ctl:ruleRemoveById={exclusion.remove_rule}"
    if exclusion.remove_tag is not None:
        return f"ctl:ruleRemoveByTag={exclusion.remove_tag}"
    assert exclusion.remove_target is not None
    target = exclusion.remove_target
    return f"ctl:ruleRemoveTargetById={target.rule};{target.target}"


def _active_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
