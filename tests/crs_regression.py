"""CRS's regression suite as go-ftw runs it: YAML stages → wire bytes → our HTTP layer → a WAF → verdict.

go-ftw (the runner of CRS's CI) builds each stage's request from its YAML (`ftwhttp/request.go`):
headers from a map, written in sorted name order; with `autocomplete_headers` (the default) a
`Content-Type: application/x-www-form-urlencoded` when there is data and none is given, the
urlencoding of unencoded `key=value` data, `Connection: close`, and a `Content-Length`; LF → CRLF in
multipart bodies; `encoded_request` sent as decoded. It then reads the WAF's error log for the
test: every `expect_ids` must have fired, no `no_expect_ids`, `match_regex` found, `no_match_regex`
not found, and the status where one is given.

Here the bytes go through the parser the edge runs (httptools, then `check_head`), so a request our
HTTP layer refuses never reaches the WAF and gets the status the edge would send: those tests are
the deviations of our HTTP layer listed in tests/data/crs-regression-overrides.yaml.
The WAF is any `evaluate(request, response) -> Logged`: ModSecurity (bench/modsec_oracle.py) or ours.
"""

from __future__ import annotations

import base64
import functools
import importlib
import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote_plus, unquote_plus

import httptools
import yaml

from originguard.errors import BadRequest, ProtocolError
from originguard.http.request_checks import check_head, index_headers, version_rejection
from originguard.waf.seclang.transaction import HttpRequest, HttpResponse, MatchedRule

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: 4.5 s → 1 s for the suite
MAX_BODY = 13_107_200  # SecRequestBodyLimit of the engine setup below: larger bodies are not inspected

# CRS's CI settings (tests/regression/README.md), added after crs-setup.conf.
CI_SETTINGS = """
SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,\\
setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,\\
setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,\\
setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
"""

# The engine setup CRS runs under: ModSecurity's modsecurity.conf-recommended (v3), in the parts that
# decide what the rules see (body processors, body access and limits, the body-error rules).
ENGINE_SETUP = r"""
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" \
  "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',\
  logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
  "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \
  "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
"""


class Expectation(NamedTuple):
    """One stage's `output`, as go-ftw checks it."""

    expect_ids: frozenset[int] = frozenset()
    no_expect_ids: frozenset[int] = frozenset()
    match_regex: str | None = None
    no_match_regex: str | None = None
    status: int | None = None
    expect_error: bool = False


class Stage(NamedTuple):
    wire: bytes  # what go-ftw writes to the socket
    expect: Expectation


class FtwTest(NamedTuple):
    rule_id: int
    test_id: int
    file: str  # relative to the tests directory
    stages: tuple[Stage, ...]

    @property
    def name(self) -> str:
        return f"{self.rule_id}-{self.test_id}"


class Received(NamedTuple):
    """What our HTTP layer made of the bytes: the request, or the status it refused them with."""

    request: HttpRequest | None
    refusal: int | None
    reason: str


class Logged(NamedTuple):
    """What a WAF logged for one request: the rule ids (the verdict reads only these) and log lines."""

    ids: frozenset[int]
    lines: tuple[str, ...]


Evaluate = Callable[[HttpRequest, HttpResponse], Logged]


def shared_dir() -> Path:
    """The shared third-party data (CRS as released): ORIGINGUARD_SHARED, else `../shared` beside
    the checkout, else /work/shared (where a clean clone elsewhere on the dev machine finds it)."""
    if "ORIGINGUARD_SHARED" in os.environ:
        return Path(os.environ["ORIGINGUARD_SHARED"])
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def crs_dir() -> Path:
    return shared_dir() / "crs-4.28.0"


def crs_rule_files(root: Path) -> list[Path]:
    """crs-setup is text (`setup_text`); the rules load in name order, as CRS's Include does."""
    return sorted((root / "rules").glob("*.conf"))


def setup_text(root: Path) -> str:
    """Everything loaded before the rule files: engine setup, crs-setup.conf, the CI settings."""
    return ENGINE_SETUP + (root / "crs-setup.conf.example").read_text() + CI_SETTINGS


@functools.cache
def load_suite(tests_dir: Path) -> list[FtwTest]:
    """Every test of every `*.yaml` file (go-ftw's glob; CRS's count of 4,966 is over these).
    Cached: the regression and the differential tests share one parse per session."""
    found: list[FtwTest] = []
    for path in sorted(tests_dir.rglob("*.yaml")):
        document = yaml.load(path.read_text(), Loader=_LOADER)
        if not document:
            continue  # an empty file (920539.yaml) holds no tests
        for test in document["tests"]:
            stages = tuple(
                Stage(wire_bytes(stage["input"]), expectation(stage.get("output") or {}))
                for stage in test["stages"]
            )
            found.append(
                FtwTest(
                    int(document["rule_id"]), int(test["test_id"]), str(path.relative_to(tests_dir)), stages
                )
            )
    return found


def expectation(output: Mapping[str, Any]) -> Expectation:
    log = output.get("log") or {}
    return Expectation(
        frozenset(int(i) for i in log.get("expect_ids") or ()),
        frozenset(int(i) for i in log.get("no_expect_ids") or ()),
        log.get("match_regex"),
        log.get("no_match_regex"),
        int(output["status"]) if output.get("status") is not None else None,
        bool(output.get("expect_error", False)),
    )


# -- go-ftw's request builder ------------------------------------------------------------------

_REPEAT = re.compile(r'\{\{\s*"((?:[^"\\]|\\.)*)"\s*\|\s*repeat\s+(\d+)\s*\}\}')
_BODY_METHODS = re.compile(r"^POST|PUT|PATCH|DELETE$")  # go-ftw's regex, precedence and all


def wire_bytes(given: Mapping[str, Any]) -> bytes:
    """The bytes go-ftw sends for one stage input."""
    if given.get("encoded_request"):
        return base64.b64decode(given["encoded_request"])
    method = _text(given.get("method"), "GET")
    line = f"{method} {_text(given.get('uri'), '/')} {_text(given.get('version'), 'HTTP/1.1')}\r\n"
    headers = [(str(k), _text(v, "")) for k, v in sorted((given.get("headers") or {}).items())]
    data = _data(given)
    autocomplete = given.get("autocomplete_headers", not given.get("stop_magic", False))
    if data and autocomplete:
        if not _has(headers, "Content-Type"):
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        data = _encode_form(headers, data)
    if any(_canonical(k) == "Content-Type" and "multipart/form-data;" in v.lower() for k, v in headers):
        data = data.replace(b"\n", b"\r\n")
    if autocomplete:
        if not _has(headers, "Connection"):
            headers.append(("Connection", "close"))
        if not _has(headers, "Content-Length") and (data or _BODY_METHODS.search(method)):
            headers.append(("Content-Length", str(len(data))))
    head = line + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("utf-8") + data


def _text(value: Any, default: str) -> str:
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def _data(given: Mapping[str, Any]) -> bytes:
    if given.get("data") is not None:
        # go-ftw runs data as a Go template; the suite uses only `{{ "x" | repeat N }}`.
        text = _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), str(given["data"]))
        return text.encode("utf-8")
    if given.get("encoded_data") is not None:
        return base64.b64decode(given["encoded_data"])
    return b""


def _canonical(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey, for names of token characters."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _has(headers: list[tuple[str, str]], name: str) -> bool:
    return any(_canonical(k) == name for k, _ in headers)


def _encode_form(headers: list[tuple[str, str]], data: bytes) -> bytes:
    """go-ftw's encodeDataParameters: urlencode each key and value unless the data looks encoded."""
    if not any(
        _canonical(k) == "Content-Type" and v.lower() == "application/x-www-form-urlencoded"
        for k, v in headers
    ):
        return data
    text = data.decode("utf-8", "surrogateescape")
    try:
        if _go_query_unescape(text) != text:
            return data  # already escaped
    except ValueError:
        return data
    tokens = text.split("&")
    if text.endswith("&"):
        tokens = tokens[:-1]  # Go's loop never yields the empty token after a final &
    out = []
    for token in tokens:
        key, eq, value = token.partition("=")
        out.append(_go_escape(key) + ("=" + _go_escape(value) if eq else ""))
    return "&".join(out).encode("ascii")


def _go_escape(text: str) -> str:
    return quote_plus(text.encode("utf-8", "surrogateescape"), safe="-_.~")


def _go_query_unescape(text: str) -> str:
    """Go's url.QueryUnescape: a malformed %-escape is an error (Python would keep it)."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise ValueError("invalid URL escape")
    return unquote_plus(text, errors="surrogateescape")


# -- our HTTP layer -------------------------------------------------------------------------------


class _Collector:
    """httptools callbacks, as the edge's connection (http/connection.py) receives a request."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.head: tuple[bytes, str] | None = None
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, chunk: bytes) -> None:
        self.body += chunk

    def on_message_complete(self) -> None:
        self.complete = True


def receive(wire: bytes) -> Received:
    """The first request of `wire` as the edge receives it, or the status the edge refuses it with."""
    collector = _Collector()
    parser = httptools.HttpRequestParser(collector)
    try:
        parser.feed_data(wire)
    except httptools.HttpParserUpgrade:
        pass  # the edge answers the request, then closes
    except httptools.HttpParserError as exc:
        if not collector.complete:  # else the garbage after a whole request is the next one's problem
            refusal: ProtocolError = BadRequest(f"malformed request: {exc}")
            if str(exc) == "Invalid HTTP version":
                at = wire.find(collector.url + b" HTTP/")  # as the edge's _version_part
                refusal = version_rejection(
                    wire[at + len(collector.url) + 1 :] if at >= 0 and collector.url else None
                )
            return Received(None, refusal.status, str(refusal))
    if not collector.headers and not collector.url:
        return Received(None, 400, "no request line")
    method = parser.get_method()
    version = parser.get_http_version()
    try:
        check_head(method, collector.url, version, index_headers(collector.headers), MAX_BODY)
    except ProtocolError as exc:
        return Received(None, exc.status, str(exc))
    if not collector.complete:
        return Received(None, 408, "the body never completed (the edge times out)")
    request = HttpRequest(
        method, collector.url, b"HTTP/" + version.encode(), tuple(collector.headers), bytes(collector.body)
    )
    return Received(request, None, "")


# -- the backend (albedo) and the verdict ---------------------------------------------------------


def backend_response(request: HttpRequest) -> HttpResponse:
    """What CRS's CI backend (albedo) answers: `/reflect` sends back the status, headers and body
    the JSON request asks for; anything else is 200 with an empty body."""
    if request.target.split(b"?")[0] != b"/reflect" or request.method != b"POST":
        return HttpResponse(200, b"HTTP/1.1", ((b"Content-Length", b"0"),))
    try:
        spec = json.loads(request.body)
    except ValueError:
        return HttpResponse(400, b"HTTP/1.1", ((b"Content-Length", b"0"),))
    body = (
        base64.b64decode(spec["encodedBody"])
        if spec.get("encodedBody")
        else str(spec.get("body", "")).encode()
    )
    headers = [(str(k).encode(), str(v).encode()) for k, v in (spec.get("headers") or {}).items()]
    if not any(k.lower() == b"content-type" for k, _ in headers) and body:
        headers.append((b"Content-Type", _sniff(body)))  # Go's net/http sniffs one
    headers.append((b"Content-Length", str(len(body)).encode()))
    return HttpResponse(int(spec.get("status") or 200), b"HTTP/1.1", tuple(headers), body)


_HTML_SIGNATURES = (
    *(b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV", b"<FONT", b"<TABLE"),
    *(b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P", b"<!--"),
)


def _sniff(body: bytes) -> bytes:
    """Go's http.DetectContentType for text (WHATWG MIME sniffing), the part the suite reaches."""
    start = body.lstrip(b"\t\n\x0c\r ")
    upper = start[:16].upper()
    for signature in _HTML_SIGNATURES:
        if upper.startswith(signature) and start[len(signature) : len(signature) + 1] in (b" ", b">"):
            return b"text/html; charset=utf-8"
    if start.startswith(b"<?xml"):
        return b"text/xml; charset=utf-8"
    if any(b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B) for b in body[:512]):
        return b"application/octet-stream"
    return b"text/plain; charset=utf-8"


def judge(expect: Expectation, received: Received, logged: Logged) -> str | None:
    """Why a stage fails, as go-ftw decides it, or None when it passes."""
    if expect.expect_error:
        return "expected a connection error, got a response"
    status = received.refusal if received.refusal is not None else 200
    if expect.status is not None and status != expect.status:
        return f"status {status}, expected {expect.status}" + (
            f" ({received.reason})" if received.reason else ""
        )
    missing = sorted(expect.expect_ids - logged.ids)
    if missing:
        return f"missing {missing}" + (
            f" (refused {received.refusal}: {received.reason})" if received.reason else ""
        )
    unexpected = sorted(expect.no_expect_ids & logged.ids)
    if unexpected:
        return f"unexpected {unexpected}"
    text = "\n".join(logged.lines)
    if expect.match_regex is not None and not re.search(expect.match_regex, text):
        return f"log does not match {expect.match_regex!r}"
    if expect.no_match_regex is not None and re.search(expect.no_match_regex, text):
        return f"log matches {expect.no_match_regex!r}"
    return None


def run_test(test: FtwTest, evaluate: Evaluate, instead: Expectation | None = None) -> str | None:
    """Run every stage; the first failing stage's reason, or None. `instead`: an override's output."""
    for number, stage in enumerate(test.stages):
        received = receive(stage.wire)
        logged = Logged(frozenset(), ())
        if received.request is not None:
            logged = evaluate(received.request, backend_response(received.request))
        failure = judge(instead or stage.expect, received, logged)
        if failure is not None:
            return failure if len(test.stages) == 1 else f"stage {number + 1}: {failure}"
    return None


def run_suite(tests: list[FtwTest], evaluate: Evaluate) -> dict[str, str]:
    """Failing test name → reason."""
    return {test.name: failure for test in tests if (failure := run_test(test, evaluate)) is not None}


class Override(NamedTuple):
    rule_id: int
    test_id: int
    reason: str
    output: Mapping[str, Any] | None


def load_overrides(path: Path) -> dict[str, Override]:
    """An overrides file in Coraza's format (`test_overrides: [{rule_id, test_ids, reason, output?}]`)."""
    document = yaml.safe_load(path.read_text()) or {}
    found: dict[str, Override] = {}
    for entry in document.get("test_overrides") or ():
        for test_id in entry["test_ids"]:
            found[f"{entry['rule_id']}-{test_id}"] = Override(
                int(entry["rule_id"]), int(test_id), str(entry["reason"]), entry.get("output")
            )
    return found


def override_problems(
    tests: list[FtwTest], failures: Mapping[str, str], overrides: Mapping[str, Override], evaluate: Evaluate
) -> list[str]:
    """What is wrong with the overrides: failures not listed, entries that pass anyway (stale),
    entries whose `output` (what happens instead) does not hold."""
    problems = [
        f"{name} fails, not in the overrides: {why}"
        for name, why in failures.items()
        if name not in overrides
    ]
    by_name = {test.name: test for test in tests}
    for name, override in overrides.items():
        if name not in by_name:
            problems.append(f"{name} is in the overrides but not in the suite")
        elif name not in failures:
            problems.append(f"{name} passes: its override is stale ({override.reason})")
        elif override.output is not None:
            failure = run_test(by_name[name], evaluate, expectation(override.output))
            if failure is not None:
                problems.append(f"{name} does not do what its override says: {failure}")
    return problems


def iter_requests(tests: list[FtwTest]) -> Iterator[tuple[str, HttpRequest]]:
    """Every stage request the edge lets through, named `rule-test[.stage]` (the differential's input)."""
    for test in tests:
        for number, stage in enumerate(test.stages):
            request = receive(stage.wire).request
            if request is not None:
                yield (test.name if len(test.stages) == 1 else f"{test.name}.{number + 1}"), request


# -- our engine ---------------------------------------------------------------------------------


def engine_api() -> Any:
    """The module with our engine's `load_ruleset` (the package, or its engine module before the
    package re-exports it), None while it is not built (its operators and transforms included)."""
    for part in ("operators", "transforms"):
        if importlib.util.find_spec(f"originguard.waf.seclang.{part}") is None:
            return None
    for name in ("originguard.waf.seclang", "originguard.waf.seclang.engine"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "load_ruleset"):
            return module
    return None


@functools.cache
def load_our_ruleset(root: Path) -> Any:
    """CRS with the CI settings, compiled by our engine (once per test session)."""
    load_ruleset = engine_api().load_ruleset

    rules = root / "rules"
    return load_ruleset(crs_rule_files(root), before=setup_text(root), data_dirs=(rules,))


def our_evaluate(ruleset: Any) -> Evaluate:
    """Every phase of our engine, and the logged rules as ModSecurity would write them."""

    def evaluate(request: HttpRequest, response: HttpResponse) -> Logged:
        tx = ruleset.transaction(request)
        # DetectionOnly never interrupts; stopping at an interruption keeps a stray block visible.
        phases = (
            tx.request_headers,
            tx.request_body,
            lambda: tx.response_headers(response),
            tx.response_body,
        )
        for phase in phases:
            if phase() is not None:
                break
        tx.logging()
        logged = [rule for rule in tx.verdict().matched if rule.logged]
        return Logged(frozenset(rule.rule_id for rule in logged), tuple(map(log_line, logged)))

    return evaluate


def log_line(rule: MatchedRule) -> str:
    """A matched rule as a ModSecurity error-log line (the part `match_regex` tests read)."""
    tags = "".join(f' [tag "{_escaped(tag)}"]' for tag in rule.tags)
    return (
        f'ModSecurity: Warning. Matched against variable `{_escaped(rule.variable)}\' [id "{rule.rule_id}"]'
        f' [msg "{_escaped(rule.msg)}"] [data "{_escaped(rule.logdata)}"]'
        f' [severity "{rule.severity or ""}"]{tags}'
    )


def _escaped(text: str) -> str:
    r"""ModSecurity's log escaping: characters outside printable ASCII as \xHH, so a line stays one."""
    return "".join(c if " " <= c <= "~" else f"\\x{ord(c) & 0xFF:02x}" for c in text)


def main() -> None:
    """`python -m tests.crs_regression [--modsecurity]`: the pass rate and the failures by rule file."""
    import sys
    from collections import defaultdict

    root = crs_dir()
    tests = load_suite(root / "tests" / "regression" / "tests")
    if "--modsecurity" in sys.argv:
        from bench.modsec_oracle import ModSecurityOracle

        oracle = ModSecurityOracle(crs_rule_files(root), before=setup_text(root))

        def modsecurity(request: HttpRequest, response: HttpResponse) -> Logged:
            verdict = oracle.evaluate(request, response)
            return Logged(verdict.id_set, verdict.lines)

        evaluate: Evaluate = modsecurity
    else:
        evaluate = our_evaluate(load_our_ruleset(root))
    failures = run_suite(tests, evaluate)
    overrides = load_overrides(Path(__file__).parent / "data" / "crs-regression-overrides.yaml")
    by_file: dict[str, list[str]] = defaultdict(list)
    files = {test.name: test.file.split("/")[0] for test in tests}
    for name, why in failures.items():
        by_file[files[name]].append(f"{name}{' (override)' if name in overrides else ''}: {why}")
    for file, lines in sorted(by_file.items()):
        print(f"{file}: {len(lines)}")
        print("".join(f"  {line}\n" for line in lines), end="")
    passed = len(tests) - len(failures)
    print(f"passed {passed}/{len(tests)} ({100 * passed / len(tests):.2f}%), {len(overrides)} overrides")


if __name__ == "__main__":
    main()
