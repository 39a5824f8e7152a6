"""The I/O shell of `verify`: live probes over real sockets and TLS (judged in `audit/verify.py`).

Kept in its own package because every other module of `audit/` is pure (tests/unit/audit/test_pure.py).
"""

from originguard.audit.live.probes import observe, run_probes

__all__ = ["observe", "run_probes"]
