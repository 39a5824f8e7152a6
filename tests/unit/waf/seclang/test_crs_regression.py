"""CRS 4.28.0's own regression suite run against our engine the way CRS's CI runs it.

DetectionOnly, blocking paranoia level 4, the `900005` settings; the verdict read from the rule ids
our engine logs (tests/crs_regression.py). ≥ 99% of the 4,966 tests must pass, and every failure
must be listed with its reason in tests/data/crs-regression-overrides.yaml (Coraza's format).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import crs_regression as crs

OVERRIDES = Path(__file__).resolve().parents[3] / "data" / "crs-regression-overrides.yaml"
ROOT = crs.crs_dir()

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "tests" / "regression").is_dir(), reason=f"CRS 4.28.0 not found at {ROOT}"
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def suite() -> list[crs.FtwTest]:
    return crs.load_suite(ROOT / "tests" / "regression" / "tests")


@pytest.fixture(scope="module")
def evaluate() -> crs.Evaluate:
    if crs.engine_api() is None:
        pytest.skip("the SecLang engine has no load_ruleset yet")
    return crs.our_evaluate(crs.load_our_ruleset(ROOT))


@pytest.fixture(scope="module")
def failures(suite: list[crs.FtwTest], evaluate: crs.Evaluate) -> dict[str, str]:
    return crs.run_suite(suite, evaluate)


def test_the_suite_holds_the_4966_tests_crs_counts(suite: list[crs.FtwTest]) -> None:
    assert len(suite) == 4966


def test_at_least_99_percent_of_the_crs_regression_tests_pass(
    suite: list[crs.FtwTest], failures: dict[str, str]
) -> None:
    passed = len(suite) - len(failures)
    listing = "\n".join(f"{name}: {why}" for name, why in sorted(failures.items()))
    assert passed / len(suite) >= 0.99, f"{passed}/{len(suite)} passed; failures:\n{listing}"


def test_every_failure_is_an_override_with_its_reason_and_no_override_is_stale(
    suite: list[crs.FtwTest], failures: dict[str, str], evaluate: crs.Evaluate
) -> None:
    problems = crs.override_problems(suite, failures, crs.load_overrides(OVERRIDES), evaluate)
    assert not problems, "\n".join(problems)


def test_every_override_is_a_deviation_of_our_http_layer(suite: list[crs.FtwTest]) -> None:
    # The brief: overrides document what our HTTP layer does differently, never rule evaluation.
    overrides: dict[str, Any] = crs.load_overrides(OVERRIDES)
    by_name = {test.name: test for test in suite}
    for name, override in overrides.items():
        received = [crs.receive(stage.wire) for stage in by_name[name].stages]
        refused = any(r.request is None for r in received)
        status = (override.output or {}).get("status")
        assert refused or status == 200, f"{name}: neither refused nor a status difference: {override.reason}"
