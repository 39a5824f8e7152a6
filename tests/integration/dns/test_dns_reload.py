"""The DNS router reloads in place: no unanswered query, new records served, bad files refused,
health kept for targets that did not change; `originguard dns` does it on SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import dns.query
import pytest

from originguard.config import load_config
from originguard.dns.server import start_dns_server
from originguard.errors import ConfigError
from originguard.runtime import reload_from
from tests.integration.dns.harness import HealthzEdge, eventually, make_pki
from tests.processes import spawn
from tests.redis_server import free_port

INTERVAL, TIMEOUT_S = 0.1, 0.5


def zone_yaml(
    listen: str, sg: int, eu: int, ca: Path, *, txt: str, interval: float = INTERVAL, timeout: float = 0.5
) -> str:
    return f"""
edges:
  - {{name: edge-sg, region: ap-southeast-1, https: 127.0.0.1:{sg}}}
  - {{name: edge-eu, region: eu-west-1, https: 127.0.0.1:{eu}}}
dns:
  listen: {listen}
  zone: cdn.example.test.
  records:
    - name: www
      health_check: {{protocol: https, path: /healthz, interval: {interval}, timeout: {timeout},
                      healthy: 2, unhealthy: 2, ca_bundle: {ca}}}
      targets: [{{edge: edge-sg, address: 192.0.2.1}}, {{edge: edge-eu, address: 192.0.2.2}}]
    - {{name: version, txt: ["{txt}"]}}
"""


async def www(port: int) -> set[str]:
    query = dns.message.make_query("www.cdn.example.test.", "A")
    response = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=1.0)
    return {rdata.address for rrset in response.answer for rdata in rrset}


async def version(port: int) -> str:
    query = dns.message.make_query("version.cdn.example.test.", "TXT")
    response = await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=1.0)
    return b"".join(response.answer[0][0].strings).decode() if response.answer else ""


def test_a_reload_serves_new_records_refuses_a_bad_file_keeps_health_and_drops_no_query(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ca, cert, key = make_pki(tmp_path)
    path = tmp_path / "dns.yaml"

    async def scenario() -> None:
        sg, eu = HealthzEdge(cert, key), HealthzEdge(cert, key)
        await sg.start()
        await eu.start()
        path.write_text(zone_yaml("127.0.0.1:0", sg.port, eu.port, ca, txt="v1"))
        router = await start_dns_server(load_config(path))
        unanswered: list[str] = []
        answered = 0
        querying = True

        async def ask_all_the_time() -> None:
            nonlocal answered
            while querying:
                try:
                    await version(router.port)
                    answered += 1
                except dns.exception.Timeout:
                    unanswered.append("timeout")

        asker = asyncio.get_running_loop().create_task(ask_all_the_time())
        blackhole: asyncio.Server | None = None
        try:
            await eventually(lambda: www(router.port), lambda a: a == {"192.0.2.1", "192.0.2.2"}, 5)
            await sg.stop()
            # Its port now accepts and never answers: each probe lasts its whole timeout.
            held: list[asyncio.StreamWriter] = []
            blackhole = await asyncio.start_server(lambda _, w: held.append(w), "127.0.0.1", sg.port)
            await eventually(lambda: www(router.port), lambda a: a == {"192.0.2.2"}, 5)

            # A changed record and slower checks: the first probe after the reload takes 5 s, so the
            # dead edge stays out of the answers only if the reload kept its health state.
            changed = zone_yaml("127.0.0.1:0", sg.port, eu.port, ca, txt="v2", interval=30, timeout=5)
            path.write_text(changed)
            await reload_from(str(path), router.reload)
            assert await version(router.port) == "v2"
            assert await www(router.port) == {"192.0.2.2"}, "health state survived the reload"

            # A file naming an unknown edge is refused; the running zone keeps answering.
            path.write_text(
                zone_yaml("127.0.0.1:0", sg.port, eu.port, ca, txt="v3").replace(
                    "edge: edge-eu", "edge: mars"
                )
            )
            with caplog.at_level(logging.ERROR):
                await reload_from(str(path), router.reload)
            assert "reload refused" in caplog.text and "mars" in caplog.text
            assert await version(router.port) == "v2"
            assert await www(router.port) == {"192.0.2.2"}
        finally:
            querying = False
            await asker
            await router.aclose()
            if blackhole is not None:
                blackhole.close()
            if eu.server is not None:
                await eu.stop()
        assert answered > 50 and unanswered == []

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_sighup_reloads_the_dns_process_in_place(tmp_path: Path) -> None:
    ca, _, _ = make_pki(tmp_path)
    port = free_port()
    path = tmp_path / "dns.yaml"
    # Health checks against closed ports: every target fails, the record fails open (still answered).
    path.write_text(zone_yaml(f"127.0.0.1:{port}", 1, 2, ca, txt="v1"))
    router = spawn([sys.executable, "-m", "originguard", "dns", "-c", str(path)], tmp_path / "dns.err")
    with router:  # its process group goes however the test ends
        query = dns.message.make_query("version.cdn.example.test.", "TXT")

        def ask() -> str | None:
            try:
                response = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
            except (dns.exception.Timeout, OSError):
                return None
            return b"".join(response.answer[0][0].strings).decode()

        router.wait_until(lambda: ask() == "v1", "answering v1")
        path.write_text(zone_yaml(f"127.0.0.1:{port}", 1, 2, ca, txt="v2"))
        os.kill(router.pid, signal.SIGHUP)
        answers = []
        deadline = time.monotonic() + 10
        while "v2" not in answers and time.monotonic() < deadline:
            answers.append(ask())
        assert router.process.poll() is None, "SIGHUP ended the router"
        assert answers[-1] == "v2"
        assert None not in answers, "a query went unanswered during the reload"
        code = router.stop()
    assert code == 0, router.output()
    assert "dns router reloaded" in router.output()


def test_a_reload_moves_the_listener_to_a_changed_port_and_refuses_one_in_use(tmp_path: Path) -> None:
    ca, _, _ = make_pki(tmp_path)
    path = tmp_path / "dns.yaml"
    first, second = free_port(), free_port()

    async def scenario() -> None:
        path.write_text(zone_yaml(f"127.0.0.1:{first}", 1, 2, ca, txt="v1"))
        router = await start_dns_server(load_config(path), start_health_checks=False)
        try:
            path.write_text(zone_yaml(f"127.0.0.1:{second}", 1, 2, ca, txt="v2"))
            await router.reload(load_config(path))
            assert router.port == second and await version(second) == "v2"
            with pytest.raises((dns.exception.Timeout, ConnectionRefusedError)):
                await version(first)  # the old port was closed once the new one answered
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
                squatter.bind(("127.0.0.1", first))
                path.write_text(zone_yaml(f"127.0.0.1:{first}", 1, 2, ca, txt="v3"))
                with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{first} \\(udp\\)"):
                    await router.reload(load_config(path))
            assert router.port == second and await version(second) == "v2"
        finally:
            await router.aclose()

    asyncio.run(asyncio.wait_for(scenario(), 30))
