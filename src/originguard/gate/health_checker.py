"""Active health checks of target groups: a thin asyncio shell around `gate.health.step`."""

from __future__ import annotations

import asyncio
import logging
import ssl

from originguard.config.gate import HealthCheck
from originguard.errors import UpstreamError
from originguard.gate.health import CheckResult, status_matches, step
from originguard.gate.targets import Target, TargetGroupState
from originguard.http import oneshot

log = logging.getLogger("originguard.gate.health")


async def probe(target: Target, check: HealthCheck) -> tuple[CheckResult, str]:
    """One check on a fresh connection (as balancers do): TCP connect, or GET path → status."""
    tls: ssl.SSLContext | None = None
    if check.protocol == "https":
        # Targets sit behind the gate on a private network; like cloud balancers, the check
        # proves liveness, not identity, so it does not verify the target's certificate.
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    host, port = target.address
    if check.protocol == "tcp":
        try:
            async with asyncio.timeout(check.timeout):
                _, writer = await asyncio.open_connection(host, port)
                writer.close()
        except TimeoutError:
            return CheckResult.FAIL, f"no answer within {check.timeout:g}s"
        except OSError as exc:
            return CheckResult.FAIL, f"connect failed: {exc.strerror or exc}"
        return CheckResult.PASS, "tcp connect ok"
    try:
        answer = await oneshot.request(
            host,
            port,
            b"GET",
            check.path.encode(),
            headers=[(b"User-Agent", b"originguard-health")],
            tls=tls,
            timeout=check.timeout,
            read_body=False,  # the status decides; a large health page costs nothing to skip
        )
    except UpstreamError as exc:
        if exc.kind == "timeout":
            return CheckResult.FAIL, f"no answer within {check.timeout:g}s"
        if exc.kind == "connect":
            return CheckResult.FAIL, f"connect failed: {exc.detail}"
        return CheckResult.FAIL, f"not an HTTP response ({exc})"
    status = answer.status
    if status_matches(check.matcher, status):
        return CheckResult.PASS, f"status {status}"
    return CheckResult.FAIL, f"status {status} not in {check.matcher}"


async def run_health_checks(group: TargetGroupState) -> None:
    """Check every target of a group forever, once per interval, and update its state."""
    check = group.config.health_check
    if check is None:
        return
    while True:
        results = await asyncio.gather(*(probe(t, check) for t in group.targets))
        for target, (result, reason) in zip(group.targets, results, strict=True):
            before = target.health.state
            target.health = step(
                target.health,
                result,
                healthy_threshold=check.healthy,
                unhealthy_threshold=check.unhealthy,
                reason=reason,
            )
            if target.health.state is not before:
                log.warning(
                    "target %s of group %s is now %s (%s)",
                    target.address,
                    group.name,
                    target.health.state.value,
                    reason,
                )
        await asyncio.sleep(check.interval)


def health_summary(group: TargetGroupState) -> dict[str, str]:
    """Target address → state, for the admin API and metrics."""
    return {str(t.address): t.health.state.value for t in group.targets}
