"""Load the YAML config: every error names the file, the key path and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from originguard.config.keys import section_of, walk
from originguard.config.models import Config, cross_references
from originguard.errors import ConfigError, ConfigErrors, SecretError
from originguard.secrets import SecretValues, load_secret_env, load_secret_file

REFERENCE = "docs/config.md"  # the key reference, generated from the models (config.reference)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its secrets resolved; `repr` shows no secret value (Secret hides it)."""

    config: Config
    secrets: dict[str, SecretValues]
    source: str
    base_dir: Path

    def resolve_path(self, path: str) -> Path:
        """Relative paths in a config file are relative to the file's directory."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def load_config(path: Path | str, *, load_secrets: bool = True) -> LoadedConfig:
    """Read, parse, validate and (optionally) resolve secrets; raise ConfigError(s) on any problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read the file: {exc.strerror}") from None
    return load_config_text(text, str(file), file.resolve().parent, load_secrets=load_secrets)


def load_config_text(text: str, source: str, base_dir: Path, *, load_secrets: bool = True) -> LoadedConfig:
    """Like `load_config`, for YAML held in memory (the embedded default, tests)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", f"YAML syntax error: {yaml_problem(exc)}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(source, "", "the top level must be a mapping of sections (gate:, edges:, ...)")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigErrors([_to_config_error(source, err) for err in exc.errors()]) from None
    problems = cross_references(config)
    if problems:
        raise ConfigErrors([ConfigError(source, path, problem) for path, problem in problems])
    secrets = _load_secrets(config, source, base_dir) if load_secrets else {}
    return LoadedConfig(config=config, secrets=secrets, source=source, base_dir=base_dir)


# Constructs PyYAML only finds unclosed lines later: the mistake is where they opened (its context mark).
_UNCLOSED = {
    "while parsing a flow sequence": "this '[' is never closed with ']'",
    "while parsing a flow mapping": "this '{' is never closed with '}'",
    "while scanning a quoted scalar": "this quote is never closed",
}


def yaml_problem(exc: yaml.YAMLError) -> str:
    """`line L, column C: problem`, at the line of the real mistake where the parser knows it."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    opened = getattr(exc, "context_mark", None)
    unclosed = _UNCLOSED.get(getattr(exc, "context", None) or "")
    if unclosed is not None and opened is not None:
        found = f" (noticed at line {mark.line + 1}: {problem})" if mark is not None else ""
        return f"line {opened.line + 1}, column {opened.column + 1}: {unclosed}{found}"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


def _load_secrets(config: Config, source: str, base_dir: Path) -> dict[str, SecretValues]:
    loaded: dict[str, SecretValues] = {}
    errors: list[ConfigError] = []
    for name, where in config.secrets.items():
        try:
            if where.file is not None:
                path = Path(where.file)
                loaded[name] = load_secret_file(name, path if path.is_absolute() else base_dir / path)
            elif where.env is not None:
                loaded[name] = load_secret_env(name, where.env)
        except SecretError as exc:
            errors.append(ConfigError(source, f"secrets.{name}", str(exc)))
    if errors:
        raise ConfigErrors(errors)
    return loaded


def key_path(loc: tuple[int | str, ...]) -> str:
    """`('gate', 'listeners', 0, 'rules')` → `gate.listeners[0].rules`, without union branch labels."""
    _, loc = walk(loc)
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")) or part in {"str", "int", "list[...]"}:
            continue  # pydantic's internal branch names say nothing to a user
        else:
            out += f".{part}" if out else part
    return out


def _to_config_error(source: str, err: Any) -> ConfigError:
    kind = err.get("type", "")
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    loc = tuple(err.get("loc", ()))
    if kind == "extra_forbidden":
        message = f"unknown key; {_allowed_here(loc[:-1])}"
    elif kind == "missing":
        message = f"required key is missing (see {_reference_link(loc[:-1])})"
    return ConfigError(source, key_path(loc), message)


def _allowed_here(loc: tuple[int | str, ...]) -> str:
    """The keys the mapping at `loc` takes, and where docs/config.md describes them."""
    section = section_of(loc)
    if section is None:
        return f"see {REFERENCE}"
    keys = ", ".join(f.alias or k for k, f in section.model.model_fields.items())
    return f"allowed here: {keys} (see {REFERENCE}#{section.anchor})"


def _reference_link(loc: tuple[int | str, ...]) -> str:
    section = section_of(loc)
    return f"{REFERENCE}#{section.anchor}" if section is not None else REFERENCE
