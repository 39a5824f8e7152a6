"""Config loading: every error names the file, the key path and what is wrong; secrets stay hidden."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from originguard.config import load_config, load_config_text
from originguard.config.default import DEFAULT_CONFIG_YAML
from originguard.errors import ConfigError, ConfigErrors
from originguard.secrets import (
    Secret,
    SecretValues,
    generate_secret_value,
    parse_secret_text,
    write_secret_file,
)


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(text, "bad.yaml", Path("."), load_secrets=False)
    return [str(e) for e in caught.value.errors]


def test_embedded_default_is_valid() -> None:
    loaded = load_config_text(DEFAULT_CONFIG_YAML, "<default>", Path("."), load_secrets=False)
    assert loaded.config.gate is not None and len(loaded.config.edges) == 2


def test_every_problem_is_reported_with_file_and_key_path() -> None:
    problems = errors_of("""
gate:
  listeners:
    - port: 127.0.0.1:99999
      protocol: ftp
      rules:
        - priority: 1
          conditions: [{}]
          actions: [{forward: {target_group: app}}]
  bogus: 1
""")
    assert "bad.yaml: gate.listeners[0].port: port 99999 is out of range 0-65535" in problems
    assert any(p.startswith("bad.yaml: gate.listeners[0].protocol: ") for p in problems)
    assert any(
        "gate.listeners[0].rules[0].conditions[0]: each condition needs exactly one" in p for p in problems
    )
    assert any(p.startswith("bad.yaml: gate.bogus: unknown key") for p in problems)


def test_undefined_target_group_is_named() -> None:
    problems = errors_of("""
gate:
  listeners:
    - port: 127.0.0.1:1
      protocol: http
      rules:
        - priority: 1
          conditions: [{path_pattern: {values: ["/*"]}}]
          actions: [{forward: {target_group: app}}]
""")
    assert any("listeners[0].rules[0].actions[0]: target group 'app' is not defined" in p for p in problems)


def test_undefined_secret_reference_is_named() -> None:
    problems = errors_of("""
gate:
  listeners:
    - port: 127.0.0.1:1
      protocol: http
      rules:
        - priority: 1
          conditions: [{http_header: {name: X-A, values: [{secret: nope}]}}]
          actions: [{fixed_response: {status: 200}}]
""")
    assert any("secret 'nope' is not defined under secrets" in p for p in problems)


def test_https_listener_without_tls_files_is_refused() -> None:
    problems = errors_of("gate: {listeners: [{port: 127.0.0.1:1, protocol: https}]}")
    assert any("an https listener needs tls" in p for p in problems)


def test_yaml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text("gate:\n  listeners: [\n", "x.yaml", Path("."))
    assert str(caught.value).startswith("x.yaml: YAML syntax error: line ")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


def test_group_readable_secret_file_is_refused_without_showing_the_value(tmp_path: Path) -> None:
    value = generate_secret_value()
    path = tmp_path / "s"
    write_secret_file(path, [value])
    os.chmod(path, 0o640)
    config = tmp_path / "c.yaml"
    config.write_text(f"secrets: {{origin-verify: {{file: {path}}}}}\n")
    with pytest.raises(ConfigErrors) as caught:
        load_config(config)
    message = str(caught.value)
    assert "secrets.origin-verify" in message and "chmod 600" in message and value not in message


def test_secret_from_env_and_relative_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = generate_secret_value()
    write_secret_file(tmp_path / "secrets" / "a", [value])
    monkeypatch.setenv("ORIGIN_VERIFY_TEST", value)
    config = tmp_path / "c.yaml"
    config.write_text("secrets: {a: {file: secrets/a}, b: {env: ORIGIN_VERIFY_TEST}}\n")
    loaded = load_config(config)
    assert loaded.secrets["a"].current.reveal() == value.encode() == loaded.secrets["b"].current.reveal()
    assert value not in repr(loaded) and value not in str(loaded.secrets)


def test_secret_type_hides_its_value_and_compares_exactly() -> None:
    secret = Secret(b"hunter2-but-longer")
    assert repr(secret) == "Secret('***')" and str(secret) == "***" and f"{secret}" == "***"
    assert secret.matches(b"hunter2-but-longer") and not secret.matches(b"HUNTER2-but-longer")
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


def test_secret_file_lines_are_current_then_accepted() -> None:
    values = parse_secret_text("x", "# comment\nnew\n\nold\n", "test")
    assert isinstance(values, SecretValues)
    assert values.current.reveal() == b"new" and values.admits(b"old") and not values.admits(b"other")
    with pytest.raises(Exception, match="spaces, control or non-ASCII"):
        parse_secret_text("x", "has space\n", "test")


def test_generated_secrets_are_40_lowercase_alphanumerics() -> None:
    values = {generate_secret_value() for _ in range(50)}
    assert len(values) == 50 and all(
        len(v) == 40 and v.isalnum() and v.islower() for v in values if v.isalpha()
    )


def yaml_error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "site.yaml", Path("."), load_secrets=False)
    return str(caught.value)


def test_an_unclosed_bracket_is_reported_on_the_line_it_opened() -> None:
    lines = ["gate:", "  listeners:", "    - port: 127.0.0.1:0", "      protocol: http"]
    lines += [f"      # filler line {n}" for n in range(len(lines) + 1, 48)]
    lines += ["      rules: [a, b", "  admin: 127.0.0.1:0"]  # line 48 opens "[", never closed
    assert len(lines) == 49 and lines[47].startswith("      rules: [")
    message = yaml_error_of("\n".join(lines) + "\n")
    assert message.startswith("site.yaml: YAML syntax error: line 48, column 14: this '[' is never closed")
    assert "(noticed at line 49: " in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\nb: {x: 1\nc: 2\n", "line 2, column 4: this '{' is never closed"),
        ('a: 1\nb: "abc\nc: 2\n', "line 2, column 4: this quote is never closed"),
        ("a:\n  b: 1\n c: 2\n", "line 3, column 2: expected <block end>"),  # the mistake is where found
    ],
)
def test_yaml_errors_name_the_line_of_the_mistake(text: str, where: str) -> None:
    assert yaml_error_of(text).startswith(f"site.yaml: YAML syntax error: {where}")


def test_compression_settings_are_checked_where_they_are_written() -> None:
    problems = errors_of("""
distribution:
  origins: [{id: o, address: "127.0.0.1:1"}]
  compression: {codings: [br, br], min_bytes: 10, max_bytes: 5}
  default_behavior: {origin: o, cache: false, compress: true}
  behaviors: [{path: /x/*, origin: o, compress: true}]
""")
    assert any(
        p.startswith("bad.yaml: distribution.compression: ") and "codings lists a coding twice" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("bad.yaml: distribution.default_behavior: ") and "compress needs cache: true" in p
        for p in problems
    ), problems
    [deflate] = errors_of("""
distribution:
  origins: [{id: o, address: "127.0.0.1:1"}]
  compression: {codings: [deflate]}
  default_behavior: {origin: o}
""")
    assert deflate.startswith("bad.yaml: distribution.compression.codings[0]: ")
