"""The DNS router: answer selection (sans-IO) and a UDP/TCP server over dnspython's wire format.

Pure: `cidr`, `records`, `select`, `rtt`, `health`, `zone`, `engine`. Shell: `server`, `checker`,
`admin`, `process`, `telemetry`. For edges: `tcp_rtt` (TCP_INFO) and `reporter` (`RttReporter`).
"""
