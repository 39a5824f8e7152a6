"""The embedded default deployment of `originguard up`: the addresses and names the README shows."""

from __future__ import annotations

from typing import Final

STATE_DIR: Final = ".originguard"

# Certificates of the development CA: names the edges and the gate are reached by.
DEV_CERT_NAMES: Final = {
    "edge": ["www.cdn.example.test", "cdn.example.test", "localhost", "127.0.0.1"],
    "gate": ["gate.originguard.test", "localhost", "127.0.0.1"],
}

DEFAULT_CONFIG_YAML: Final = """
secrets:
  origin-verify: {file: .originguard/secrets/origin-verify}
  admin-token: {file: .originguard/secrets/admin-token}
dns:
  listen: 127.0.0.1:5353
  admin: 127.0.0.1:5380
  zone: cdn.example.test.
  records:
    - name: www
      policy: latency
      health_check: {protocol: https, path: /healthz, interval: 2s,
                     ca_bundle: .originguard/certs/ca.crt, server_name: www.cdn.example.test}
      targets: [{edge: edge-sg}, {edge: edge-eu}]
edges:
  - {name: edge-sg, region: ap-southeast-1, http: 127.0.0.1:8080, https: 127.0.0.1:8443,
     admin: 127.0.0.1:9911, tls: {certificate: .originguard/certs/edge.crt, key: .originguard/certs/edge.key}}
  - {name: edge-eu, region: eu-west-1, http: 127.0.0.1:8081, https: 127.0.0.1:8444,
     admin: 127.0.0.1:9912, tls: {certificate: .originguard/certs/edge.crt, key: .originguard/certs/edge.key}}
distribution:
  viewer_protocol_policy: redirect-to-https
  access_log: .originguard/logs/{edge}.access.log
  admin_token: {secret: admin-token}
  rtt_report_url: http://127.0.0.1:5380/rtt
  web_acl: main
  origins:
    - id: gate
      address: 127.0.0.1:9443
      protocol_policy: https-only
      server_name: gate.originguard.test
      ca_bundle: .originguard/certs/ca.crt
      custom_headers: {X-Origin-Verify: {secret: origin-verify}}
  default_behavior: {origin: gate, ttl: {min: 0, default: 60, max: 86400}}
  behaviors:
    - {path: /api/*, origin: gate, cache: false}
    - {path: /static/*, origin: gate, compress: true, ttl: {min: 0, default: 3600, max: 86400}}
waf:
  web_acls:
    main:
      default_action: allow
      rules:
        # The OWASP Core Rule Set 4.28 (bundled) at paranoia level 1, blocking at anomaly score 5.
        - name: owasp-crs
          priority: 5
          action: block
          statement: {managed: {name: owasp-crs, paranoia_level: 1}}
        - {name: block-sqli, priority: 10, action: block, statement: {sqli: {field: query}}}
        - name: per-ip-limit
          priority: 20
          action: block
          statement: {rate_based: {limit: 2000, window: 5m}}
gate:
  admin: 127.0.0.1:9901
  access_log: .originguard/logs/gate.access.log
  http_probe_port: 9080
  listeners:
    - port: 127.0.0.1:9443
      protocol: https
      tls: {certificate: .originguard/certs/gate.crt, key: .originguard/certs/gate.key}
      default_action: {fixed_response: {status: 403, content_type: text/plain, body: "Forbidden"}}
      rules:
        - priority: 1
          conditions: [{http_header: {name: X-Origin-Verify, values: [{secret: origin-verify}]}}]
          actions: [{forward: {target_group: app}}]
  target_groups:
    app:
      targets: [127.0.0.1:9000]
      health_check: {path: /healthz, interval: 5s, healthy: 2, unhealthy: 2}
      algorithm: round_robin
"""
