"""What the engine does not implement is refused at load with file:line and the directive."""

from __future__ import annotations

from pathlib import Path

import pytest

from originguard.errors import ConfigError, SecLangError
from originguard.waf.seclang.engine import load_ruleset
from tests.unit.waf.seclang.engine_support import ruleset


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('SecRule ARGS "@rx a" "id:1,phase:1,sanitiseMatched"', "action sanitiseMatched is not supported"),
        ('SecRule ARGS "@rx a" "id:1,phase:1,ctl:debugLogLevel=9"', "ctl:debugLogLevel is not supported"),
        ('SecRule TIME_HOUR "@rx a" "id:1,phase:1"', "variable TIME_HOUR is not supported"),
        ('SecRule XML://a/b "@rx a" "id:1,phase:1"', "XPath //a/b is not supported"),
        ('SecRule ARGS "@rx a" "phase:1"', "a rule needs an id"),
        ('SecRule ARGS "@rx a" "id:1,phase:7"', "phase 7 does not exist"),
        ('SecRule ARGS "@rx a" "id:1,phase:1,setvar:env.x=1"', "setvar:env.x=1 is not supported"),
        ("SecRuleScript /x.lua", "cannot parse"),
    ],
)
def test_unsupported_is_refused_with_its_line(text: str, problem: str) -> None:
    with pytest.raises(SecLangError) as caught:
        ruleset("\n" + text + "\n")
    assert caught.value.line == 3  # "SecRuleEngine On", the blank line, then the directive
    assert problem in str(caught.value)
    assert str(caught.value).startswith("<before>:3: ")
    assert "\n" not in str(caught.value)


def test_the_refusal_names_the_file(tmp_path: Path) -> None:
    rules = tmp_path / "my-rules.conf"
    rules.write_text('SecAction "id:1,phase:1,pass"\nSecAction "id:2,phase:1,exec:/bin/sh"\n')
    with pytest.raises(ConfigError, match=r"my-rules\.conf:2: action exec is not supported"):
        load_ruleset([rules])


def test_a_duplicate_id_is_refused() -> None:
    with pytest.raises(SecLangError, match="rule id 1 is defined twice"):
        ruleset('SecAction "id:1,phase:1,pass"\nSecAction "id:1,phase:1,pass"\n')


def test_a_chain_left_open_is_refused() -> None:
    with pytest.raises(SecLangError, match="chain"):
        ruleset('SecRule ARGS "@rx a" "id:1,phase:1,chain"\n')
