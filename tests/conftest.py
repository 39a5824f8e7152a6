"""Shared fixtures: a development PKI made by the test session, a server loop thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from originguard.certs import CertFiles, ensure_dev_pki
from tests.support import LoopThread

GATE_NAMES = ["gate.originguard.test", "localhost", "127.0.0.1"]
EDGE_NAMES = ["www.cdn.example.test", "cdn.example.test", "localhost", "127.0.0.1"]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    """A CA plus gate and edge certificates, created for this test session."""
    return ensure_dev_pki(tmp_path_factory.mktemp("pki"), {"gate": GATE_NAMES, "edge": EDGE_NAMES})


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    """A 0600 secret file with a fresh value."""
    from originguard.secrets import generate_secret_value, write_secret_file

    value = generate_secret_value()
    path = tmp_path / "secrets" / "origin-verify"
    write_secret_file(path, [value])
    return path, value


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a stale compiled module: Python would load it instead of the edited source."""
    import importlib
    import tomllib

    root = Path(__file__).resolve().parent.parent
    compiled = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["originguard"]["compiled"]
    stale = []
    for path in compiled:
        source = root / "src" / "originguard" / path
        spec = importlib.util.find_spec("originguard." + path.removesuffix(".py").replace("/", "."))
        origin = Path(spec.origin) if spec is not None and spec.origin else source
        if origin.suffix == ".so" and origin.stat().st_mtime < source.stat().st_mtime:
            stale.append(path)
    if stale:
        pytest.exit(f"compiled modules older than their sources: {', '.join(stale)}; run `make build`", 2)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Safety net: a process group a fixture started and never stopped does not outlive the session."""
    from tests.processes import kill_leftovers

    left = kill_leftovers()
    if left:
        writer = session.config.get_terminal_writer()
        writer.line()
        writer.line(f"killed process groups no fixture stopped: {left}", red=True)
