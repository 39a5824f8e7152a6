"""Readiness over systemd's notify protocol (sd_notify(3)): a component says READY=1 once every one of
its listeners is bound, or STATUS=<why> before it exits on a start-up error.

A supervisor (`originguard up`, the worker parent, or systemd with `Type=notify`) sets `NOTIFY_SOCKET`
to a Unix datagram socket it reads; without the variable these calls do nothing. Binding a port
succeeds only for one process (no SO_REUSEPORT across owners), so READY=1 from our own child is the
proof that the listener on the port is ours, which no port probe can give.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Final

log = logging.getLogger("originguard")

ENV: Final = "NOTIFY_SOCKET"
MAX_DATAGRAM: Final = 4096


def notify_ready() -> None:
    """Tell the supervisor this process serves (every listener bound)."""
    _send("READY=1")


def notify_status(text: str) -> None:
    """Tell the supervisor why this process is about to exit (one line)."""
    _send("STATUS=" + " ".join(text.split())[: MAX_DATAGRAM - 16])


def _send(message: str) -> None:
    address = os.environ.get(ENV)
    if not address:
        return
    # '@' names an abstract socket (Linux), as systemd does; a path names a socket file.
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), target)
    except OSError as exc:  # a supervisor that went away must not stop the component
        log.debug("notify %s: %s", address, exc)


class NotifyListener:
    """The supervisor's end for one child: a fresh abstract datagram socket and what it was told."""

    def __init__(self, label: str) -> None:
        self.address = f"@originguard-{os.getpid()}-{label}-{secrets.token_hex(4)}"
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.socket.bind("\0" + self.address[1:])
        self.socket.setblocking(False)
        self.ready = False
        self.status = ""

    def drain(self) -> bool:
        """Read every queued message; True when one arrived."""
        got = False
        while True:
            try:
                data = self.socket.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return got
            got = True
            for line in data.decode(errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key == "READY" and value == "1":
                    self.ready = True
                elif key == "STATUS":
                    self.status = value

    def close(self) -> None:
        self.socket.close()
