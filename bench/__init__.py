"""Benchmarks: our components against nginx in the same run, on one pinned core each."""
