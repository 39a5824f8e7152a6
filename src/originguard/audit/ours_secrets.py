"""Strength of the secret values our config loaded (values are judged in memory, never shown)."""

from __future__ import annotations

from originguard.audit.facts import Facts
from originguard.audit.headers import MAX_VALUES
from originguard.audit.secret_strength import assess_secret, sha256_hex, short_fingerprint
from originguard.config.loader import LoadedConfig
from originguard.config.values import SecretRef

FIX_NEW = "replace it: originguard secret new FILE (40 chars of [a-z0-9], ≈206 bits)"


def check_secrets(facts: Facts, one: LoadedConfig) -> None:
    """Each accepted value of each secret: ≥128 bits, no words or repeats, not the header name."""
    if one.config.secrets and not one.secrets:
        facts.add(
            "secret-strength", "info", one.source, "secrets", "secrets were not loaded: strength not checked"
        )
        return
    headers = _header_names(one)
    for name, values in one.secrets.items():
        header = headers.get(name, "")
        where = f"secrets.{name}"
        if len(values.accepted) > MAX_VALUES:
            facts.add(
                "secret-strength",
                "warn",
                one.source,
                where,
                f"{len(values.accepted)} accepted values; 2 are enough for a rotation",
                "drop retired values from the secret",
            )
        for index, secret in enumerate(values.accepted):
            raw = secret.reveal()
            verdict = assess_secret(raw.decode("ascii", "replace"), header)
            label = "current value" if index == 0 else f"accepted value {index + 1}"
            facts.add(
                "secret-strength",
                verdict.severity,
                one.source,
                where,
                f"{label} ({short_fingerprint(sha256_hex(raw))}): {verdict.reason}",
                "" if verdict.severity == "pass" else FIX_NEW,
            )


def _header_names(one: LoadedConfig) -> dict[str, str]:
    """Secret name → the header that carries it, from origin custom_headers or gate conditions."""
    found: dict[str, str] = {}
    distribution = one.config.distribution
    for origin in distribution.origins if distribution else []:
        for header, value in origin.custom_headers.items():
            if isinstance(value, SecretRef):
                found.setdefault(value.secret, header)
    for listener in one.config.gate.listeners if one.config.gate else []:
        for rule in listener.rules:
            for condition in rule.conditions:
                if condition.http_header is None:
                    continue
                for value in condition.http_header.values:
                    if isinstance(value, SecretRef):
                        found.setdefault(value.secret, condition.http_header.name)
    return found
