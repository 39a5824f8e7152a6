"""What every HTTP proxy here needs, below the two that are proxies (edge, gate) and above http:
prebuilt responses, wildcard patterns, the framing and forwarded fields of a relayed request."""
