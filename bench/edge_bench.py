"""Edge scenarios vs nginx in the same run, one core for the system under test.

- cache hit, 1 KiB and 100 KiB, over HTTP and HTTPS: our edge vs nginx `proxy_cache` hit (target ≥ 1.0×)
- miss chain viewer → edge → HTTPS → gate → app: ours vs the same chain of nginx (target ≥ 0.6×)
- edge hit with the WAF on vs off (the cost of the default ACL on the hottest path)
- edge hit with the OWASP CRS at PL1 vs no WAF (target ≥ 0.6×), with its verdict memo and without
- compressed 100 KiB hit (gzip, compressed once at fill) vs nginx `gzip_static` serving the same
  body pre-compressed from disk (target ≥ 1.0×)
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

from bench.harness import (
    LOAD_CORE,
    SUT_CORE,
    VENV_BIN,
    Comparison,
    alternate,
    expect,
    free_port,
    nginx,
    process,
    readable_by_workers,
    report,
)
from originguard.certs import ensure_dev_pki
from originguard.secrets import generate_secret_value, write_secret_file

NAMES = ["www.cdn.example.test", "gate.originguard.test", "127.0.0.1", "localhost"]


def backend_block(port: int, root: Path) -> str:
    return f"""
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ expires 1h; }}
  }}"""


def nginx_static_block(port: int, root: Path, certs: Path) -> str:
    """nginx at its cheapest for a compressed body: the `.gz` file next to the asset, sent as is."""
    return f"""
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {certs}/edge.crt; ssl_certificate_key {certs}/edge.key;
    root {root};
    gzip_static on;
    location / {{ expires 1h; }}
  }}"""


def compressible_asset(size: int) -> bytes:
    """`size` bytes of JavaScript-like text (what `compress: true` is for), the same every run."""
    lines = [f"export function f{i}(a, b) {{ return a * {i} + b; }} // helper {i}\n" for i in range(size)]
    return "".join(lines).encode()[:size]


def nginx_edge_block(http: int, https: int, backend: int, certs: Path) -> str:
    return f"""
  proxy_cache_path PREFIX/cache levels=1:2 keys_zone=edge:10m max_size=256m inactive=60m use_temp_path=off;
  upstream origin {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{http};
    listen 127.0.0.1:{https} ssl;
    ssl_certificate {certs}/edge.crt; ssl_certificate_key {certs}/edge.key;
    location / {{
      proxy_cache edge; proxy_cache_valid 200 60m; proxy_cache_lock on;
      proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      add_header X-Cache $upstream_cache_status;
    }}
  }}"""


def nginx_chain_blocks(edge: int, gate: int, backend: int, certs: Path, secret: str) -> tuple[str, str]:
    edge_block = f"""
  upstream gate {{ server 127.0.0.1:{gate}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{edge} ssl;
    ssl_certificate {certs}/edge.crt; ssl_certificate_key {certs}/edge.key;
    location / {{
      proxy_pass https://gate; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Origin-Verify "{secret}";
      proxy_ssl_server_name on; proxy_ssl_name gate.originguard.test; proxy_ssl_session_reuse on;
      proxy_ssl_verify on; proxy_ssl_trusted_certificate {certs}/ca.crt;
    }}
  }}"""
    gate_block = f"""
  upstream app {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{gate} ssl;
    ssl_certificate {certs}/gate.crt; ssl_certificate_key {certs}/gate.key;
    location / {{
      if ($http_x_origin_verify != "{secret}") {{ return 403 "Forbidden"; }}
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
  }}"""
    return edge_block, gate_block


CONFIG = """
secrets: {{origin-verify: {{file: {work}/secret}}}}
edges:
  - {{name: edge-bench, region: local, http: 127.0.0.1:{edge_http}, https: 127.0.0.1:{edge_https},
     tls: {{certificate: {certs}/edge.crt, key: {certs}/edge.key}}}}
distribution:
  viewer_protocol_policy: allow-all
  web_acl: {web_acl}
  access_log: null
  origins:
    - id: origin
      address: 127.0.0.1:{origin_port}
      protocol_policy: {origin_protocol}
      server_name: gate.originguard.test
      ca_bundle: {certs}/ca.crt
      custom_headers: {{X-Origin-Verify: {{secret: origin-verify}}}}
  default_behavior: {{origin: origin, ttl: {{min: 0, default: 3600, max: 86400}}}}
  behaviors:
    - {{path: /api/*, origin: origin, cache: false}}
    - {{path: /static/*, origin: origin, compress: true, ttl: {{min: 0, default: 3600, max: 86400}}}}
waf:
  web_acls:
    main:
      default_action: allow
      rules:
        - {{name: block-sqli, priority: 10, action: block, statement: {{sqli: {{field: query}}}}}}
        - name: per-ip-limit
          priority: 20
          action: block
          statement: {{rate_based: {{limit: 2000000000, window: 5m}}}}
    crs:
      default_action: allow
      rules:
        - {{name: owasp-crs, priority: 5, action: block, statement: {{managed: {{name: owasp-crs}}}}}}
    crs-cold:
      default_action: allow
      rules:
        - {{name: owasp-crs, priority: 5, action: block,
           statement: {{managed: {{name: owasp-crs, verdict_memo: 0}}}}}}
gate:
  access_log: null
  listeners:
    - port: 127.0.0.1:{gate_port}
      protocol: https
      tls: {{certificate: {certs}/gate.crt, key: {certs}/gate.key}}
      rules:
        - priority: 1
          conditions: [{{http_header: {{name: X-Origin-Verify, values: [{{secret: origin-verify}}]}}}}]
          actions: [{{forward: {{target_group: app}}}}]
  target_groups:
    app: {{targets: [127.0.0.1:{backend}], health_check: {{path: /1k.bin, interval: 5s}}}}
"""


def run(seconds: int = 5) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="og-bench-edge-") as tmp:
        work = Path(tmp)
        readable_by_workers(work)
        certs = work / "certs"
        ensure_dev_pki(certs, {"edge": NAMES, "gate": NAMES})
        root = work / "www"
        (root / "api").mkdir(parents=True)
        for name, size in (("1k.bin", 1024), ("100k.bin", 100 * 1024)):
            (root / name).write_bytes(b"x" * size)
            (root / "api" / name).write_bytes(b"x" * size)
        (root / "static").mkdir()
        asset = compressible_asset(100 * 1024)
        (root / "static" / "100k.js").write_bytes(asset)
        (root / "static" / "100k.js.gz").write_bytes(gzip.compress(asset, compresslevel=6, mtime=0))
        for directory in (root, root / "api", root / "static"):
            readable_by_workers(directory)
        secret = generate_secret_value()
        write_secret_file(work / "secret", [secret])
        names = (
            "backend",
            "n_http",
            "n_https",
            "e_http",
            "e_https",
            "gate",
            "n_edge",
            "n_gate",
            "w_https",
            "c_https",
            "k_https",
            "n_static",
        )
        ports = {k: free_port() for k in names}
        with nginx(backend_block(ports["backend"], root), core=LOAD_CORE, port=ports["backend"]):
            rows = _hit_rows(work, certs, ports, seconds)
            rows.append(_compressed_row(work, certs, ports, root, seconds))
            rows.append(_chain_row(work, certs, ports, secret, seconds))
    return report("edge (keep-alive, 32 connections, one core)", rows)


def _config(
    work: Path, certs: Path, ports: dict[str, int], *, https: str, web_acl: str, origin: int, protocol: str
) -> Path:
    path = work / f"edge-{https}-{web_acl}.yaml"
    path.write_text(
        CONFIG.format(
            work=work,
            certs=certs,
            edge_http=ports["e_http"] if https == "e_https" else 0,
            edge_https=ports[https],
            web_acl=web_acl,
            origin_port=origin,
            origin_protocol=protocol,
            gate_port=ports["gate"],
            backend=ports["backend"],
        )
    )
    return path


def _edge(config: Path) -> list[str]:
    return [str(VENV_BIN / "originguard"), "edge", "-c", str(config), "--name", "edge-bench"]


Row = tuple[str, Comparison, float]


def _hit_rows(work: Path, certs: Path, ports: dict[str, int], seconds: int) -> list[Row]:
    block = nginx_edge_block(ports["n_http"], ports["n_https"], ports["backend"], certs)
    waf_on = _config(
        work, certs, ports, https="e_https", web_acl="main", origin=ports["backend"], protocol="http-only"
    )
    waf_off = _config(
        work, certs, ports, https="w_https", web_acl="null", origin=ports["backend"], protocol="http-only"
    )
    rows: list[Row] = []
    with (
        nginx(block, core=SUT_CORE, port=ports["n_https"]),
        process(_edge(waf_on), core=SUT_CORE, port=ports["e_https"]),
        process(_edge(waf_off), core=SUT_CORE, port=ports["w_https"]),
    ):
        for name, scheme, ours_port, theirs_port, path in (
            ("1k http", "http", "e_http", "n_http", "/1k.bin"),
            ("1k https", "https", "e_https", "n_https", "/1k.bin"),
            ("100k https", "https", "e_https", "n_https", "/100k.bin"),
        ):
            ours_url = f"{scheme}://127.0.0.1:{ports[ours_port]}{path}"
            theirs_url = f"{scheme}://127.0.0.1:{ports[theirs_port]}{path}"
            expect(ours_url, header=("X-Cache", "Hit from originguard"))
            expect(theirs_url, header=("X-Cache", "HIT"))
            rows.append((f"edge hit {name}", alternate(ours_url, theirs_url, seconds=seconds), 1.0))
        expect(f"https://127.0.0.1:{ports['w_https']}/1k.bin", header=("X-Cache", "Hit from originguard"))
        waf_on_off = alternate(
            f"https://127.0.0.1:{ports['e_https']}/1k.bin",
            f"https://127.0.0.1:{ports['w_https']}/1k.bin",
            seconds=seconds,
        )
        rows.append(("edge hit 1k https: WAF on / off", waf_on_off, 0.0))
    rows += _crs_rows(work, certs, ports, seconds)
    return rows


def _crs_rows(work: Path, certs: Path, ports: dict[str, int], seconds: int) -> list[Row]:
    """The cache hit with CRS PL1 against the same edge without a WAF (wrk's request: Host only)."""
    off = f"https://127.0.0.1:{ports['w_https']}/1k.bin"
    rows: list[Row] = []
    for name, acl, port, target in (
        ("edge hit 1k https: CRS PL1 / no WAF", "crs", "c_https", 0.6),
        ("  same, verdict memo off", "crs-cold", "k_https", 0.0),
    ):
        config = _config(
            work, certs, ports, https=port, web_acl=acl, origin=ports["backend"], protocol="http-only"
        )
        with (
            process(_edge(config), core=SUT_CORE, port=ports[port]),
            process(
                _edge(
                    _config(
                        work,
                        certs,
                        ports,
                        https="w_https",
                        web_acl="null",
                        origin=ports["backend"],
                        protocol="http-only",
                    )
                ),
                core=SUT_CORE,
                port=ports["w_https"],
            ),
        ):
            url = f"https://127.0.0.1:{ports[port]}/1k.bin"
            expect(url, header=("X-Cache", "Hit from originguard"))
            expect(off, header=("X-Cache", "Hit from originguard"))
            rows.append((name, alternate(url, off, seconds=seconds), target))
    return rows


def _compressed_row(work: Path, certs: Path, ports: dict[str, int], root: Path, seconds: int) -> Row:
    """A gzip viewer's hit on a 100 KiB script: our stored gzip copy vs nginx's gzip_static file."""
    config = _config(
        work, certs, ports, https="e_https", web_acl="main", origin=ports["backend"], protocol="http-only"
    )
    gzip_only = {"Accept-Encoding": "gzip"}
    with (
        nginx(nginx_static_block(ports["n_static"], root, certs), core=SUT_CORE, port=ports["n_static"]),
        process(_edge(config), core=SUT_CORE, port=ports["e_https"]),
    ):
        ours_url = f"https://127.0.0.1:{ports['e_https']}/static/100k.js"
        theirs_url = f"https://127.0.0.1:{ports['n_static']}/static/100k.js"
        expect(ours_url, header=("Content-Encoding", "gzip"), send=gzip_only)
        expect(ours_url, header=("X-Cache", "Hit from originguard"), send=gzip_only)
        expect(theirs_url, header=("Content-Encoding", "gzip"), send=gzip_only)
        comparison = alternate(ours_url, theirs_url, seconds=seconds, headers=["Accept-Encoding: gzip"])
    return ("edge hit 100k https, gzip: stored copy / nginx gzip_static", comparison, 1.0)


def _chain_row(work: Path, certs: Path, ports: dict[str, int], secret: str, seconds: int) -> Row:
    edge_block, gate_block = nginx_chain_blocks(
        ports["n_edge"], ports["n_gate"], ports["backend"], certs, secret
    )
    config = _config(
        work, certs, ports, https="e_https", web_acl="main", origin=ports["gate"], protocol="https-only"
    )
    gate = [str(VENV_BIN / "originguard"), "gate", "-c", str(config)]
    with (
        nginx(gate_block, core=LOAD_CORE, port=ports["n_gate"]),
        nginx(edge_block, core=SUT_CORE, port=ports["n_edge"]),
        process(gate, core=LOAD_CORE, port=ports["gate"]),
        process(_edge(config), core=SUT_CORE, port=ports["e_https"]),
    ):
        ours_url = f"https://127.0.0.1:{ports['e_https']}/api/1k.bin"
        theirs_url = f"https://127.0.0.1:{ports['n_edge']}/api/1k.bin"
        expect(ours_url, header=("X-Cache", "Miss from originguard"))  # /api/* is never cached
        expect(theirs_url)
        comparison = alternate(ours_url, theirs_url, seconds=seconds)
    return ("miss chain edge→gate→app (https)", comparison, 0.6)


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
