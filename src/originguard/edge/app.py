"""The edge as an HTTP app: the parser-callback fast path and the dispatch to the slow paths.

A request is answered inside the parser callback when it can be: health, viewer-policy redirects,
methods a behaviour refuses, WAF blocks, and fresh cache hits (one dict lookup, one write). Only
misses, revalidations and request bodies start a coroutine.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from originguard.cache import cache_key
from originguard.cache.facts import is_plain
from originguard.cache.key import KeyPolicy
from originguard.edge.behaviors import CompiledBehavior, select_behavior
from originguard.edge.relaying import EdgeRelayHandler, begin_relay
from originguard.edge.runtime import EdgeRuntime
from originguard.edge.viewer import viewer_decision
from originguard.http.app import HttpApp
from originguard.http.message import Request
from originguard.http.writer import ResponseWriter
from originguard.proxy.prebuilt import prebuild
from originguard.waf import Verdict, WafRequest, block_log_record, evaluate, evaluate_response
from originguard.waf.seclang import HttpResponse
from originguard.waf.stats import crs_record

if TYPE_CHECKING:
    from originguard.http.connection import HttpConnection

HEALTH: Final = prebuild(200, [(b"Content-Type", b"text/plain"), (b"Cache-Control", b"no-store")], b"ok\n")
METHOD_REFUSED: Final = prebuild(
    403, [(b"Content-Type", b"text/plain")], b"This distribution does not allow this method\n"
)
LOOP: Final = prebuild(
    508, [(b"Content-Type", b"text/plain")], b"Loop detected: this edge is already in Via\n"
)
HTTPS_ONLY: Final = prebuild(
    403, [(b"Content-Type", b"text/plain")], b"This distribution only accepts HTTPS\n"
)


class EdgeContext:
    """What the fast path found out, handed to the slow path (a plain class: a dataclass's
    generated __init__ stays interpreted even here, ~1k instructions per request)."""

    __slots__ = ("behavior", "key_policy", "verdict")

    def __init__(self, behavior: CompiledBehavior, key_policy: KeyPolicy, verdict: Verdict | None) -> None:
        self.behavior = behavior
        self.key_policy = key_policy
        self.verdict = verdict


class EdgeApp(HttpApp):
    """Serves one viewer listener (http or https) of an edge."""

    def __init__(self, runtime: EdgeRuntime, scheme: str, https_port: int | None) -> None:
        self.runtime = runtime
        self.scheme = scheme
        self.plain_http = scheme == "http"
        self.https_port = https_port
        self._hits = runtime.requests.cell(("Hit", "200"))
        self.relay_handler = EdgeRelayHandler(self)
        self._bytes = runtime.bytes_sent.cell(())
        self.relayed = runtime.relayed.cell(())  # counted by edge.relaying

    def respond_now(self, request: Request) -> bytes | None:
        runtime = self.runtime
        view = runtime.view
        path = request.path
        if path == view.health_path:
            return self._answer(
                request, HEALTH.wire(keep_alive=request.keep_alive, head_only=False), "Health", 200
            )
        for value in request.header_values(b"via"):
            if value.find(view.via) >= 0:
                # A shield chain that points back at us would otherwise loop until sockets run out.
                return self._answer(request, LOOP.wire(keep_alive=False, head_only=False), "Error", 508)
        behavior = select_behavior(view.behaviors, path)
        if self.plain_http and behavior.viewer_protocol_policy != "allow-all":
            return self._viewer_policy(request, behavior)
        if request.method not in behavior.methods:
            wire = METHOD_REFUSED.wire(keep_alive=request.keep_alive, head_only=request.method == b"HEAD")
            return self._answer(request, wire, "Error", 403)
        verdict = None
        if view.waf is not None:
            verdict = self.inspect(request, b"", False)
            if verdict.blocked:
                return self.blocked_wire(request, verdict)
        policy = behavior.key_policy
        if (
            behavior.cacheable
            and request.method == b"GET"
            and request.keep_alive
            and is_plain(request.method, request.header_index())
        ):
            key = cache_key(request.host, path, request.query, request.headers, policy)
            hit = runtime.store.fresh_wire(key, time.time())
            if hit is not None:
                # The hottest path: counters are prebuilt cells, and no log line is built unless
                # the access log is on.
                self._hits.value += 1.0
                self._bytes.value += len(hit)
                if runtime.access_log.enabled:
                    self._log_line(request, 200, len(hit), "Hit", verdict)
                return hit
        request.context = EdgeContext(behavior, policy, verdict)
        return None

    def begin(self, request: Request, client: HttpConnection) -> bool:
        context = request.context
        if not isinstance(context, EdgeContext):
            return False
        if context.behavior.cacheable and (request.method == b"GET" or request.method == b"HEAD"):
            return False  # the cache's path: lookups, fills, collapsing
        return begin_relay(self, request, client, context)

    async def handle(self, request: Request, response: ResponseWriter) -> None:
        from originguard.edge.miss import serve_slow_path

        context = request.context
        if not isinstance(context, EdgeContext):
            # Requests with a body (and connection-close ones) come here without a fast-path pass.
            answer: bytes | None = (
                self.respond_now(request) if request.body is None else self._route_with_body(request)
            )
            if answer is not None:
                response.send_prebuilt(_status_of(answer), answer)
                response.close_after = not request.keep_alive
                return
            context = request.context
            assert isinstance(context, EdgeContext)
        await serve_slow_path(self, request, response, context)

    def on_rejected(self, client_ip: str, status: int, reason: str) -> None:
        self.runtime.requests.inc(("Error", str(status)))
        self.runtime.access_log.write(
            {
                "edge": self.runtime.view.node.name,
                "client": client_ip,
                "status": status,
                "result": "Error",
                "reason": reason,
            }
        )

    # -- WAF -----------------------------------------------------------------------------------

    def inspect(self, request: Request, body: bytes, truncated: bool) -> Verdict:
        """Run the web ACL; counts, samples and block logs happen here."""
        waf = self.runtime.view.waf
        assert waf is not None
        waf_request = self._waf_request(request, body, truncated)
        now = time.time()
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
        now = time.time()
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

    # -- helpers -------------------------------------------------------------------------------

    def _route_with_body(self, request: Request) -> bytes | None:
        """Routing for a request with a body: the WAF runs later, when the body is read."""
        behavior = select_behavior(self.runtime.view.behaviors, request.path)
        if self.scheme == "http" and behavior.viewer_protocol_policy != "allow-all":
            return self._viewer_policy(request, behavior)
        if request.method not in behavior.methods:
            return self._answer(request, METHOD_REFUSED.wire(keep_alive=False, head_only=False), "Error", 403)
        request.context = EdgeContext(behavior, behavior.key_policy, None)
        return None

    def _viewer_policy(self, request: Request, behavior: CompiledBehavior) -> bytes:
        decision = viewer_decision(
            behavior.viewer_protocol_policy,
            scheme=self.scheme,
            host=request.host,
            https_port=self.https_port,
            target=request.target if request.target.startswith(b"/") else request.path,
        )
        head_only = request.method == b"HEAD"
        if decision.kind == "redirect":
            built = prebuild(301, [(b"Location", decision.location), (b"Content-Type", b"text/plain")], b"")
            return self._answer(
                request, built.wire(keep_alive=request.keep_alive, head_only=head_only), "Redirect", 301
            )
        wire = HTTPS_ONLY.wire(keep_alive=request.keep_alive, head_only=head_only)
        return self._answer(request, wire, "Error", 403)

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


def _status_of(wire: bytes) -> int:
    return int(wire[9:12])
