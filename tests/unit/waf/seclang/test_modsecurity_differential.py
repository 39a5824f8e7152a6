"""Our engine against ModSecurity itself (libmodsecurity 3.0.15): same rules, same requests, same ids.

The rules are CRS 4.28.0 with CRS's CI settings (DetectionOnly, every paranoia level, so every rule
runs); the requests are the regression suite's (those our HTTP layer lets through) and issue 17's
benign and attack set of bench/crs_bench.py. For each request, the rule ids each engine logs must be
equal; every difference must be listed in tests/data/modsec-known-differences.yaml with its reason.
The harness itself is proven on ModSecurity: it fails exactly the tests the overrides and CRS's
nginx-overrides (the documented libmodsecurity3 bugs) list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from originguard.waf.seclang.transaction import HttpRequest, HttpResponse
from tests import crs_regression as crs

pytest.importorskip("libmodsecurity", reason="libmodsecurity (the `test` extra) is not installed")

from bench.crs_bench import request_set
from bench.modsec_oracle import ModSecurityOracle

DATA = Path(__file__).resolve().parents[3] / "data"
ROOT = crs.crs_dir()

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "tests" / "regression").is_dir(), reason=f"CRS 4.28.0 not found at {ROOT}"
    ),
    pytest.mark.slow,
]

Difference = tuple[str, int, str]  # (request, rule id, the engine that logged it alone)


def known_differences() -> dict[Difference, str]:
    document = yaml.safe_load((DATA / "modsec-known-differences.yaml").read_text())
    known: dict[Difference, str] = {}
    for entry in document["differences"]:
        assert entry["kind"] in ("modsecurity-bug", "our-bug"), entry
        for request in entry["requests"]:
            known[(str(request), int(entry["rule_id"]), entry["logged_by"])] = entry["reason"]
    return known


@pytest.fixture(scope="module")
def suite() -> list[crs.FtwTest]:
    return crs.load_suite(ROOT / "tests" / "regression" / "tests")


@pytest.fixture(scope="module")
def oracle() -> Iterator[ModSecurityOracle]:
    engine = ModSecurityOracle(crs.crs_rule_files(ROOT), before=crs.setup_text(ROOT))
    yield engine
    engine.close()


def modsecurity_evaluate(oracle: ModSecurityOracle) -> crs.Evaluate:
    def evaluate(request: HttpRequest, response: HttpResponse) -> crs.Logged:
        verdict = oracle.evaluate(request, response)
        return crs.Logged(verdict.id_set, verdict.lines)

    return evaluate


def test_the_harness_run_on_modsecurity_fails_only_documented_tests(
    suite: list[crs.FtwTest], oracle: ModSecurityOracle
) -> None:
    # Proves the harness independent of our engine: ModSecurity, the engine CRS is written for,
    # fails only HTTP-layer deviations (our overrides) and its own documented bugs.
    failures = crs.run_suite(suite, modsecurity_evaluate(oracle))
    overrides = crs.load_overrides(DATA / "crs-regression-overrides.yaml")
    modsecurity_bugs = {request for request, _, side in known_differences() if side == "modsecurity"}
    modsecurity_bugs |= {request for request, rule, _ in known_differences() if rule == 980170}
    unexplained = {
        name: why for name, why in failures.items() if name not in overrides and name not in modsecurity_bugs
    }
    assert not unexplained
    assert len(suite) - len(failures) >= 4908  # measured 2026-12-07: 98.83% through our HTTP layer


def test_our_engine_logs_the_rule_ids_modsecurity_logs(
    suite: list[crs.FtwTest], oracle: ModSecurityOracle
) -> None:
    if crs.engine_api() is None:
        pytest.skip("the SecLang engine has no load_ruleset yet")
    ours = crs.our_evaluate(crs.load_our_ruleset(ROOT))
    theirs = modsecurity_evaluate(oracle)
    requests = list(crs.iter_requests(suite)) + [(f"bench: {name}", r) for name, r in request_set().items()]
    found: dict[Difference, str] = {}
    for name, request in requests:
        response = crs.backend_response(request)
        our_ids, their_ids = ours(request, response).ids, theirs(request, response).ids
        for rule in our_ids - their_ids:
            found[(name, rule, "ours")] = "logged by ours only"
        for rule in their_ids - our_ids:
            found[(name, rule, "modsecurity")] = "logged by ModSecurity only"
    known = known_differences()
    unlisted = sorted(
        f"{name}: {rule} {why}"
        for (name, rule, side), why in found.items()
        if (name, rule, side) not in known
    )
    stale = sorted(
        f"{name}: {rule} ({side})" for (name, rule, side) in known if (name, rule, side) not in found
    )
    assert not unlisted, f"{len(unlisted)} differences not in modsec-known-differences.yaml:\n" + "\n".join(
        unlisted
    )
    assert not stale, "listed differences that no longer occur:\n" + "\n".join(stale)
