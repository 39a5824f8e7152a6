"""What a new user meets: `check`/`verify` without -c, bad URLs refused everywhere, INFO start-up lines.

Issue #16 items 5, 7 and 8, through the real command and real component processes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from originguard.cli import app
from tests.processes import READY_DEADLINE, spawn
from tests.support import request

runner = CliRunner()

GATE = """
gate:
  access_log: null
  listeners:
    - port: 127.0.0.1:0
      protocol: http
      default_action: {{fixed_response: {{status: {status}, body: "{body}"}}}}
{extra}"""
BAD_REDIS = 'cluster: {redis: "127.0.0.1:6379"}\n'
BAD_EDGE = """
edges: [{name: e1, region: r, http: 127.0.0.1:0}]
distribution:
  access_log: null
  rtt_report_url: 127.0.0.1:5354/rtt
  origins: [{id: app, address: "127.0.0.1:9", protocol_policy: http-only}]
  default_behavior: {origin: app}
"""


def originguard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "originguard", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def assert_one_config_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [expected]


REDIS_PROBLEM = (
    "cluster.redis: '127.0.0.1:6379' is not a Redis URL; expected "
    "redis://[:PASSWORD@]HOST:PORT[/DB] (or rediss://... for TLS, unix:///PATH.sock)"
)


def test_check_refuses_a_redis_address_without_scheme_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(GATE.format(status=403, body="no", extra=BAD_REDIS))
    assert_one_config_line(
        originguard("check", "-c", str(config), cwd=tmp_path), f"error: {config}: {REDIS_PROBLEM}"
    )


@pytest.mark.parametrize("command", [["gate"], ["up"]])
def test_components_refuse_to_start_on_a_bad_redis_url(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(GATE.format(status=403, body="no", extra=BAD_REDIS))
    result = originguard(*command, "-c", str(config), cwd=tmp_path)
    assert_one_config_line(result, f"error: {config}: {REDIS_PROBLEM}")
    assert not (tmp_path / ".originguard").exists()  # `up` started nothing


def test_an_edge_refuses_to_start_on_a_bad_rtt_report_url(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(BAD_EDGE)
    result = originguard("edge", "-c", str(config), "--name", "e1", cwd=tmp_path)
    assert_one_config_line(
        result,
        f"error: {config}: distribution.rtt_report_url: '127.0.0.1:5354/rtt' is not an http:// URL; "
        "expected http://HOST:PORT[/PATH], the DNS router's admin address (e.g. http://127.0.0.1:5380/rtt)",
    )


class Component:
    """A component process in its own process group whose stderr lines a test can wait for, in order."""

    count = 0

    def __init__(self, args: list[str], cwd: Path) -> None:
        Component.count += 1
        log = cwd / f"component-{Component.count}.err"
        self.spawned = spawn([sys.executable, "-m", "originguard", *args], log, cwd=cwd)
        self.process = self.spawned.process
        self.seen = 0  # lines already handed to a waiter

    def wait_for_line(self, needle: str, timeout: float = READY_DEADLINE) -> str:
        """The next line holding `needle` after those already returned; fails at once if it exits."""
        found: list[str] = []

        def next_match() -> bool:
            lines = self.spawned.output().splitlines(keepends=True)
            complete = [line for line in lines if line.endswith("\n")]
            for index in range(self.seen, len(complete)):
                if needle in complete[index]:
                    self.seen = index + 1
                    found.append(complete[index].rstrip("\n"))
                    return True
            return False

        self.spawned.wait_until(next_match, f"logging {needle!r}", timeout)
        return found[0]

    def stop(self) -> None:
        self.spawned.stop()


@pytest.fixture
def running_gate(tmp_path: Path) -> Iterator[tuple[Component, Path]]:
    config = tmp_path / "site.yaml"
    config.write_text(GATE.format(status=403, body="first config", extra=""))
    gate = Component(["gate", "-c", str(config)], tmp_path)
    yield gate, config
    gate.stop()


def test_start_up_lines_are_logged_at_info(running_gate: tuple[Component, Path]) -> None:
    gate, _ = running_gate
    line = gate.wait_for_line("gate listening on")
    assert " originguard.gate INFO gate listening on 127.0.0.1:" in line


def test_an_edge_logs_its_start_up_line_at_info(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(BAD_EDGE.replace("  rtt_report_url: 127.0.0.1:5354/rtt\n", ""))
    edge = Component(["edge", "-c", str(config), "--name", "e1"], tmp_path)
    try:
        assert " originguard.edge INFO edge e1 listening on 127.0.0.1:" in edge.wait_for_line("listening on")
    finally:
        edge.stop()


def test_sighup_with_a_bad_url_is_refused_and_the_running_config_keeps_serving(
    running_gate: tuple[Component, Path],
) -> None:
    gate, config = running_gate
    port = int(gate.wait_for_line("gate listening on").rsplit(":", 1)[1])
    config.write_text(GATE.format(status=200, body="second config", extra=BAD_REDIS))
    gate.process.send_signal(signal.SIGHUP)
    refused = gate.wait_for_line("reload refused")
    assert refused.endswith(f"reload refused, the running config keeps serving: {config}: {REDIS_PROBLEM}")
    response = request(port, b"GET / HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n")
    assert response.status == 403 and response.body == b"first config"
    assert gate.process.poll() is None


def test_check_and_verify_without_c_use_the_file_up_writes(tmp_path: Path) -> None:
    state = tmp_path / ".originguard"
    state.mkdir()
    (state / "originguard.yaml").write_text(GATE.format(status=403, body="no", extra=BAD_REDIS))
    for command in ("check", "verify"):
        result = originguard(command, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            "using ./.originguard/originguard.yaml",
            f"error: .originguard/originguard.yaml: {REDIS_PROBLEM}",
        ]


def test_check_without_c_reads_the_default_file_and_keeps_json_on_stdout(tmp_path: Path) -> None:
    state = tmp_path / ".originguard"
    state.mkdir()
    (state / "originguard.yaml").write_text(GATE.format(status=403, body="no", extra=""))
    result = originguard("check", "--json", cwd=tmp_path)
    assert result.returncode == 1  # an http listener: a finding
    assert result.stderr.strip() == "using ./.originguard/originguard.yaml"
    assert result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize(("command", "alternative"), [("check", ""), ("verify", " or --gate-url URL")])
def test_without_c_and_without_the_default_file_both_ways_are_named(
    tmp_path: Path, command: str, alternative: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: no config given and ./.originguard/originguard.yaml does not exist: give -c FILE"
        f"{alternative}, or run `originguard up` first (it writes that file)"
    )
