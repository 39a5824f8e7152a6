"""A fixture whose start fails leaves no process behind: the edge parent and both its workers go
with it, whether the readiness probe raised, its deadline passed, or only the session's safety net
was left to stop them."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from originguard.config.values import HostPort
from originguard.secrets import write_secret_file
from tests.integration.workers.harness import CONFIG, free_ports
from tests.processes import NotReady, Spawned, group_members, kill_leftovers, live_groups, running, spawn
from tests.redis_server import free_port
from tests.support import port_closed, wait_for


def edge_args(tmp_path: Path) -> tuple[list[str], int]:
    """`originguard edge` with two workers (worker i's admin API on admin + i), and that admin port."""
    write_secret_file(tmp_path / "secret", ["k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"])
    write_secret_file(tmp_path / "token", ["workertoken0123456789abcdefghijklmnopq"])
    http, admin, _ = free_ports(3)
    while not port_closed(admin + 1):
        http, admin, _ = free_ports(3)
    origin = HostPort("127.0.0.1", free_port())  # nobody answers there: the edge starts all the same
    config = tmp_path / "edge.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path, http=http, admin=admin, origin=origin))
    return [sys.executable, "-m", "originguard", "edge", "-c", str(config), "--name", "edge-w"], admin


def edge_with_workers(tmp_path: Path) -> Spawned:
    """The real edge with two workers, started and not yet known to be ready."""
    args, _ = edge_args(tmp_path)
    return spawn(args, tmp_path / "edge.log", notify=True)


def nothing_left_of(pgid: int, pids: set[int]) -> bool:
    """No process of the group exists any more, not even a zombie: kill(-pgid, 0) finds nobody."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return not any(Path(f"/proc/{pid}").exists() for pid in pids)
    return False


def assert_gone(edge: Spawned, pids: set[int]) -> None:
    assert len(pids) >= 3, f"the parent and both workers were running: {pids}"
    assert group_members(edge.pgid) == []
    wait_for(lambda: nothing_left_of(edge.pgid, pids), timeout=10)  # init reaps the orphaned workers
    assert edge.pgid not in live_groups()


def closed_port() -> int:
    port = free_port()
    assert port_closed(port)
    return port


def test_a_probe_that_fails_once_the_workers_run_stops_the_parent_and_both_workers(tmp_path: Path) -> None:
    edge = edge_with_workers(tmp_path)
    nobody = closed_port()
    seen: set[int] = set()

    def probe() -> bool:
        # Ready only when a port nobody listens on accepts: the connect raises once the edge is up.
        if edge.notify is None or not edge.notify.wait(0):
            return False
        seen.update(group_members(edge.pgid))
        socket.create_connection(("127.0.0.1", nobody), timeout=5).close()
        return True

    with pytest.raises(ConnectionRefusedError):
        edge.wait_until(probe, f"serving on port {nobody}")
    assert_gone(edge, seen)


def test_a_readiness_deadline_that_passes_stops_the_parent_and_both_workers(tmp_path: Path) -> None:
    edge = edge_with_workers(tmp_path)
    edge.wait_ready()
    seen = set(group_members(edge.pgid))
    nobody = closed_port()
    with pytest.raises(NotReady, match=f"not listening on {nobody} within 1s"):
        edge.wait_until(lambda: not port_closed(nobody), f"listening on {nobody}", deadline=1)
    assert_gone(edge, seen)


def test_a_worker_that_cannot_bind_fails_the_start_at_once_with_the_reason(tmp_path: Path) -> None:
    args, admin = edge_args(tmp_path)
    with socket.socket() as squatter:
        # as the worker binds: a port a closed connection left in TIME_WAIT is still taken
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", admin + 1))  # worker 1's admin port
        squatter.listen()
        edge = spawn(args, tmp_path / "edge.log", notify=True)
        with pytest.raises(NotReady, match=r"exited with code .* before ready") as failed:
            edge.wait_ready()
    assert "address already in use" in str(failed.value), "the output says why"
    assert group_members(edge.pgid) == [] and edge.pgid not in live_groups()
    wait_for(lambda: nothing_left_of(edge.pgid, {edge.pid}), timeout=10)


def test_a_test_that_fails_inside_running_stops_the_group(tmp_path: Path) -> None:
    args, _ = edge_args(tmp_path)
    seen: set[int] = set()
    with (
        pytest.raises(RuntimeError, match="the test failed"),
        running(args, tmp_path / "edge.log", Spawned.wait_ready, notify=True) as edge,
    ):
        seen.update(group_members(edge.pgid))
        raise RuntimeError("the test failed")
    assert_gone(edge, seen)


def test_the_safety_net_kills_a_group_that_no_fixture_stopped(tmp_path: Path) -> None:
    edge = edge_with_workers(tmp_path)
    edge.wait_ready()
    seen = set(group_members(edge.pgid))
    assert edge.pgid in live_groups()
    assert kill_leftovers(only=[edge.pgid]) == [edge.pgid]
    assert_gone(edge, seen)
