"""Rotation lifecycle and the stack plan, without processes or sockets."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from originguard.config import load_config_text
from originguard.config.default import DEFAULT_CONFIG_YAML
from originguard.config.values import HostPort
from originguard.rotation import TRANSITIONS, RotationEvent, RotationState, advance, phase, plan
from originguard.stack.plan import plan_children, status_lines


@pytest.mark.parametrize(("state", "event"), list(itertools.product(RotationState, RotationEvent)))
def test_every_state_event_pair_either_moves_forward_or_raises(
    state: RotationState, event: RotationEvent
) -> None:
    if (state, event) in TRANSITIONS:
        assert list(RotationState).index(advance(state, event)) == list(RotationState).index(state) + 1
    else:
        with pytest.raises(KeyError):
            advance(state, event)


def test_plan_accepts_before_sending_and_refuses_only_after_switching() -> None:
    steps = plan("old", "new")
    assert [s.lines for s in steps] == [("old", "new"), ("new", "old"), ("new",)]
    assert [s.reload for s in steps] == [("gate",), ("edge",), ("gate", "edge")]
    for step in steps:
        # the value edges send (first line) is always one the gates accept (every line)
        assert step.lines[0] in step.lines
    assert phase(RotationState.STEADY_OLD, "old", "new").lines == ("old",)


def test_embedded_default_plans_every_component_and_the_banner() -> None:
    config = load_config_text(DEFAULT_CONFIG_YAML, "<default>", Path("."), load_secrets=False).config
    children = plan_children(config, "cfg.yaml", demo_app=HostPort("127.0.0.1", 9000))
    assert [c.name for c in children] == ["demo-app", "gate", "edge-sg", "edge-eu", "dns"]
    assert children[2].args == ("edge", "-c", "cfg.yaml", "--name", "edge-sg")
    banner = "\n".join(status_lines(config))
    assert "curl http://127.0.0.1:9080/" in banner and "dig @127.0.0.1 -p 5353 www.cdn.example.test" in banner
