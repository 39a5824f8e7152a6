"""Gate over TLS, admit and 403 deny paths: our gate vs nginx with an `if ($http_x_origin_verify)` check.

Target (docs/benchmarks.md): ours ≥ 0.75× nginx on both paths, one core each, keep-alive, 1 KiB responses.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.harness import LOAD_CORE, SUT_CORE, VENV_BIN, alternate, expect, free_port, nginx, process, report
from originguard.certs import ensure_dev_pki
from originguard.secrets import generate_secret_value, write_secret_file

BODY_1K = "x" * 1024


def backend_block(port: int) -> str:
    return f"""
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type text/plain; return 200 "{BODY_1K}"; }}
  }}"""


def nginx_gate_block(port: int, backend: int, certs: Path, secret: str) -> str:
    return f"""
  upstream app {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {certs}/gate.crt; ssl_certificate_key {certs}/gate.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{
      if ($http_x_origin_verify != "{secret}") {{ return 403 "Forbidden"; }}
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
  }}"""


GATE_YAML = """
secrets: {{origin-verify: {{file: {secret_file}}}}}
gate:
  access_log: null
  listeners:
    - port: 127.0.0.1:{port}
      protocol: https
      tls: {{certificate: {certs}/gate.crt, key: {certs}/gate.key}}
      default_action: {{fixed_response: {{status: 403, content_type: text/plain, body: Forbidden}}}}
      rules:
        - priority: 1
          conditions: [{{http_header: {{name: X-Origin-Verify, values: [{{secret: origin-verify}}]}}}}]
          actions: [{{forward: {{target_group: app}}}}]
  target_groups:
    app:
      targets: [127.0.0.1:{backend}]
      health_check: {{path: /healthz, interval: 5s}}
"""


def gate_workspace(work: Path) -> tuple[Path, str]:
    """A gate certificate under `work/certs` and a fresh secret in `work/secret`: (certs, secret)."""
    certs = work / "certs"
    ensure_dev_pki(certs, {"gate": ["gate.originguard.test", "127.0.0.1"]})
    secret = generate_secret_value()
    write_secret_file(work / "secret", [secret])
    return certs, secret


def run(seconds: int = 5) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="og-bench-gate-") as tmp:
        work = Path(tmp)
        certs, secret = gate_workspace(work)
        backend, theirs_port, ours_port = free_port(), free_port(), free_port()
        (work / "gate.yaml").write_text(
            GATE_YAML.format(secret_file=work / "secret", port=ours_port, certs=certs, backend=backend)
        )
        header = [f"X-Origin-Verify: {secret}"]
        argv = [str(VENV_BIN / "originguard"), "gate", "-c", str(work / "gate.yaml")]
        with (
            nginx(backend_block(backend), core=LOAD_CORE, port=backend),
            nginx(nginx_gate_block(theirs_port, backend, certs, secret), core=SUT_CORE, port=theirs_port),
            process(argv, core=SUT_CORE, port=ours_port),
        ):
            ours, theirs = f"https://127.0.0.1:{ours_port}/", f"https://127.0.0.1:{theirs_port}/"
            for url in (ours, theirs):
                expect(url, status=403)
                expect(url, send={"X-Origin-Verify": secret})
            admit = alternate(ours, theirs, seconds=seconds, headers=header)
            deny = alternate(ours, theirs, seconds=seconds)
    return report(
        "gate over TLS (1 KiB, keep-alive, 32 connections, one core)",
        [
            ("gate admit (secret header → app)", admit, 0.75),
            ("gate deny (fixed 403)", deny, 0.75),
        ],
    )


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
