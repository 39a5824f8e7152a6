"""Break the running stack in each of the four ways: `check` and `verify` both fail, for the right reason."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import Stack

FORWARD = "actions: [{forward: {target_group: app}}]"
BREAKS = {
    # (1) the edge talks to the origin in clear text
    "origin-https-only": ("protocol_policy: https-only", "protocol_policy: http-only", "edge-reaches-origin"),
    # (2) the gate opens a plain-HTTP port
    "no-http-listener": (
        "  listeners:\n",
        "  listeners:\n    - port: 127.0.0.1:9080\n      protocol: http\n"
        "      default_action: {fixed_response: {status: 403}}\n",
        "gate-http-port-closed",
    ),
    # (3) a forwarding rule without the secret header
    "header-condition": (
        FORWARD + "\n",
        FORWARD + "\n        - priority: 2\n          conditions: [{path_pattern: {values: ['/*']}}]\n"
        "          " + FORWARD + "\n",
        "gate-direct-no-header",
    ),
    # (4) the listener's default action forwards
    "default-fixed-response": (
        'default_action: {fixed_response: {status: 403, content_type: text/plain, body: "Forbidden"}}',
        "default_action: {forward: {target_group: app}}",
        "gate-direct-no-header",
    ),
}


def failing(result_stdout: str) -> set[str]:
    return {f["check"] for f in json.loads(result_stdout)["findings"] if f["severity"] == "fail"}


def verify_until(stack: Stack, predicate, timeout: float = 20.0) -> set[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = stack.originguard("verify", "-c", str(stack.config), "--json", "--timeout", "3")
        fails = failing(result.stdout)
        if predicate(result.returncode, fails) or time.monotonic() > deadline:
            return fails
        time.sleep(0.5)


def test_healthy_stack_passes_check_and_verify(stack: Stack) -> None:
    check = stack.originguard("check", "-c", str(stack.config), "--json")
    assert check.returncode == 0, check.stdout
    assert verify_until(stack, lambda code, fails: code == 0) == set()


@pytest.mark.parametrize("check_id", sorted(BREAKS))
def test_each_break_fails_check_and_verify_with_its_reason(stack: Stack, check_id: str) -> None:
    good = stack.config.read_text()
    old, new, probe = BREAKS[check_id]
    assert old in good
    try:
        stack.config.write_text(good.replace(old, new, 1))
        check = stack.originguard("check", "-c", str(stack.config), "--json")
        assert check.returncode == 1 and check_id in failing(check.stdout), check.stdout
        stack.reload()
        fails = verify_until(stack, lambda code, found: probe in found)
        assert probe in fails, f"verify did not catch {check_id}: {fails}"
    finally:
        stack.config.write_text(good)
        stack.reload()
        assert verify_until(stack, lambda code, found: code == 0) == set(), "the stack came back whole"
