"""Observability: JSON-lines access logs and Prometheus metrics."""
