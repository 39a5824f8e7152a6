"""Fixtures for the audit tests: our configs loaded from a tmp copy with 0600 secret files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.config import LoadedConfig, load_config

from .audit_helpers import DATA, ENV_SECRETS


@pytest.fixture
def ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, LoadedConfig]]:
    """Our config fixtures loaded from a copy whose secret files have mode 0600 (git keeps no modes)."""
    target = tmp_path / "ours"
    shutil.copytree(DATA / "ours", target)
    for secret in (target / "secrets").iterdir():
        os.chmod(secret, 0o600)
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    yield {path.stem: load_config(path) for path in sorted(target.glob("*.yaml"))}
