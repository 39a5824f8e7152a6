"""The sd_notify sender and our listener over real Unix datagram sockets (abstract and file paths)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from originguard.notify import ENV, NotifyListener, notify_ready, notify_status


def test_ready_and_status_reach_the_listener_named_by_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = NotifyListener("test")
    try:
        monkeypatch.setenv(ENV, listener.address)
        assert not listener.drain()
        notify_status("edge sg cannot listen on 127.0.0.1:8443:\n  address already in use")
        assert listener.drain() and not listener.ready
        assert listener.status == "edge sg cannot listen on 127.0.0.1:8443: address already in use"
        notify_ready()
        assert listener.drain() and listener.ready
    finally:
        listener.close()


def test_a_socket_file_as_systemd_gives_it_receives_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        monkeypatch.setenv(ENV, str(path))
        notify_ready()
        assert systemd.recv(64) == b"READY=1"


def test_without_notify_socket_nothing_is_sent_and_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    notify_ready()
    notify_status("anything")
    monkeypatch.setenv(ENV, f"@originguard-nobody-{os.getpid()}")
    notify_ready()  # a supervisor that went away must not stop the component
