# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""One viewer listener of an edge as every path sees it: the fast path (edge.app) and the slow
paths it starts (edge.miss, edge.passthrough, edge.relaying) all inspect with the WAF, answer
blocks and log through `EdgeListener`.

Below all of them: the app dispatches to the slow paths, which use only this, so no path imports
the app back (that was a circle of four modules).
"""

from __future__ import annotations

from typing import Any

from originguard.cache.key import KeyPolicy
from originguard.edge.behaviors import CompiledBehavior
from originguard.edge.runtime import EdgeRuntime
from originguard.http.app import HttpApp
from originguard.http.message import Request
from originguard.http.relay import RelayHandler
from originguard.proxy.prebuilt import prebuild
from originguard.waf import Verdict, WafRequest, block_log_record, evaluate, evaluate_response
from originguard.waf.seclang import HttpResponse
from originguard.waf.stats import crs_record


class EdgeContext:
    """What the fast path found out, handed to the slow path (a plain class: a dataclass's
    generated __init__ stays interpreted even here, ~1k instructions per request)."""

    __slots__ = ("behavior", "key_policy", "route", "verdict")

    def __init__(
        self, behavior: CompiledBehavior, key_policy: KeyPolicy, verdict: Verdict | None, route: int
    ) -> None:
        self.behavior = behavior
        self.key_policy = key_policy
        self.verdict = verdict
        self.route = route  # an `edge.routing` constant


class EdgeListener(HttpApp):
    """A viewer listener's state and what every path does with it; `edge.app.EdgeApp` adds the
    dispatch (a native base class, so the compiled paths reach these through the vtable)."""

    relay_handler: RelayHandler  # the EdgeApp's `edge.relaying.EdgeRelayHandler`

    def __init__(self, runtime: EdgeRuntime, scheme: str, https_port: int | None) -> None:
        self.runtime = runtime
        self.scheme = scheme
        self.plain_http = scheme == "http"
        self.https_port = https_port
        self._hits = runtime.requests.cell(("Hit", "200"))
        self._bytes = runtime.bytes_sent.cell(())
        self.relayed = runtime.relayed.cell(())  # counted by edge.relaying

    # -- WAF -----------------------------------------------------------------------------------

    def inspect(self, request: Request, body: bytes, truncated: bool) -> Verdict:
        """Run the web ACL; counts, samples and block logs happen here."""
        waf = self.runtime.view.waf
        assert waf is not None
        waf_request = self._waf_request(request, body, truncated)
        now = self.runtime.clock()
        verdict = evaluate(waf.acl, waf_request, now, waf.rate)
        waf.stats.record(verdict)
        for rule in verdict.counted:
            self.runtime.waf_rules.inc((rule, "counted"))
        if verdict.blocked:
            self._log_block(waf_request, verdict, now)
        elif waf_request.crs_findings is not None:
            self._log_crs_count(waf_request, verdict, now)
        if verdict.blocked or verdict.counted:
            waf.samples.offer(waf_request, verdict, now)
        return verdict

    @staticmethod
    def _waf_request(request: Request, body: bytes, truncated: bool) -> WafRequest:
        return WafRequest.from_raw(
            request.method,
            request.path,
            request.query,
            request.headers,
            request.client_ip,
            body,
            truncated,
            request.target,
            b"HTTP/" + request.version,
        )

    def _log_block(self, waf_request: WafRequest, verdict: Verdict, now: float) -> None:
        view = self.runtime.view
        self.runtime.waf_rules.inc((verdict.rule or "(default)", "blocked"))
        record = block_log_record(waf_request, verdict, now, secret_headers=view.redacted_headers)
        record["edge"] = view.node.name
        self.runtime.access_log.write({"waf_block": record})

    def _log_crs_count(self, waf_request: WafRequest, verdict: Verdict, now: float) -> None:
        """An `owasp-crs` rule in count mode found something: log it as ModSecurity's DetectionOnly does."""
        view = self.runtime.view
        secrets = frozenset(view.redacted_headers)
        record = block_log_record(waf_request, verdict, now, secret_headers=view.redacted_headers)
        record["edge"] = view.node.name
        record["crs"] = {
            name: crs_record(finding, waf_request, secrets)
            for name, finding in waf_request.crs_findings or ()
        }
        self.runtime.access_log.write({"waf_count": record})

    def inspect_response(
        self, request: Request, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Verdict | None:
        """Run the ACL's CRS response rules on an origin response at fill; a block is logged here."""
        waf = self.runtime.view.waf
        if waf is None or not waf.acl.crs:
            return None
        waf_request = self._waf_request(request, b"", False)
        response = HttpResponse(status, b"HTTP/1.1", tuple(headers), body)
        verdict = evaluate_response(waf.acl, waf_request, response)
        if verdict is None:
            return None
        now = self.runtime.clock()
        waf.stats.record(verdict)
        if verdict.blocked:
            self._log_block(waf_request, verdict, now)
        else:
            for rule in verdict.counted:
                self.runtime.waf_rules.inc((rule, "counted"))
            self._log_crs_count(waf_request, verdict, now)
        return verdict

    def blocked_wire(self, request: Request, verdict: Verdict) -> bytes:
        reply = verdict.response
        assert reply is not None
        # The reply's own headers only: waf.compile.block_reply already gives it a content-type
        # (a second one here made two Content-Type fields, #16).
        headers = [(n.encode(), v.encode()) for n, v in reply.headers]
        built = prebuild(reply.status, headers, reply.body)
        wire = built.wire(keep_alive=request.keep_alive, head_only=request.method == b"HEAD")
        return self._answer(request, wire, "Blocked", reply.status, verdict)

    def _answer(
        self, request: Request, wire: bytes, result: str, status: int, verdict: Verdict | None = None
    ) -> bytes:
        self.log(request, status, len(wire), result, verdict)
        return wire

    def log(self, request: Request, status: int, size: int, result: str, verdict: Verdict | None) -> None:
        """Access log line and counters for one viewer request."""
        runtime = self.runtime
        runtime.requests.inc((result, str(status)))
        self._bytes.value += size
        if runtime.access_log.enabled:
            self._log_line(request, status, size, result, verdict)

    def _log_line(
        self, request: Request, status: int, size: int, result: str, verdict: Verdict | None
    ) -> None:
        runtime = self.runtime
        record: dict[str, Any] = {
            "edge": runtime.view.node.name,
            "client": request.client_ip,
            "method": request.method.decode("latin-1"),
            "host": request.host.decode("latin-1"),
            "uri": request.path.decode("latin-1"),
            "status": status,
            "bytes": size,
            "time_taken_ms": round((runtime.pool.loop.time() - request.started_at) * 1000, 3),
            "result": result,
            "waf": None if verdict is None else {"action": str(verdict.action), "rule": verdict.rule},
            "protocol": self.scheme,
        }
        runtime.access_log.write(record)
