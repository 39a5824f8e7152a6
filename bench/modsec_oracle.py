"""ModSecurity itself (libmodsecurity 3.0.15, PyPI `libmodsecurity`) driven like our engine.

The reference for the differential test and the CRS benchmark: the same SecLang text and files,
the same HttpRequest, and the rule ids ModSecurity logs (its server-log lines name them as
`[id "942100"]`, which is what CRS's CI reads from the error log). A test-only dependency.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import libmodsecurity

from originguard.waf.seclang.transaction import HttpRequest, HttpResponse

_ID = re.compile(r'\[id "(\d+)"\]')


class OracleVerdict(NamedTuple):
    """What ModSecurity logged and decided for one transaction."""

    ids: tuple[int, ...]  # logged rule ids, in firing order (a rule once per match it logged)
    lines: tuple[str, ...]  # its server-log lines
    interrupted: bool  # a disruptive intervention (SecRuleEngine On)
    status: int | None

    @property
    def id_set(self) -> frozenset[int]:
        return frozenset(self.ids)


class ModSecurityOracle:
    """One compiled ModSecurity rule set: `before` text, the rule files in order, `after` text."""

    def __init__(self, files: Sequence[Path], *, before: str = "", after: str = "") -> None:
        self.engine = libmodsecurity.ModSecurity()
        self.engine.set_connector_information("originguard-oracle")
        self._lines: list[str] = []
        self.engine.set_log_callback(self._lines.append)
        self.rules = libmodsecurity.RulesSet()
        for text in (before,):
            self._load(self.rules.load(text) if text else 0)
        for path in files:
            self._load(self.rules.load_from_uri(str(path)))
        if after:
            self._load(self.rules.load(after))

    def _load(self, result: int) -> None:
        if result < 0:
            raise ValueError(f"ModSecurity refused the rules: {self.rules.get_parser_error().strip()}")

    def close(self) -> None:
        """Unregister the log callback (libmodsecurity keeps it until then)."""
        self.engine.set_log_callback(None)

    def evaluate(self, request: HttpRequest, response: HttpResponse | None = None) -> OracleVerdict:
        """Phases 1 and 2, then 3 and 4 when `response` is given, then logging (phase 5)."""
        lines = self._lines
        lines.clear()
        tx = libmodsecurity.Transaction(self.engine, self.rules)
        interrupted, status = False, None
        version = request.protocol[5:] if request.protocol.startswith(b"HTTP/") else request.protocol
        tx.process_connection(request.client_ip, request.client_port, request.server_ip, request.server_port)
        steps: list[Callable[[], object]] = [
            lambda: tx.process_uri(request.target, request.method, version),  # type: ignore[arg-type]
            lambda: self._headers(tx, request),
            lambda: self._request_body(tx, request),
        ]
        if response is not None:
            steps.append(lambda: self._response_headers(tx, response))
            steps.append(lambda: self._response_body(tx, response))
        for step in steps:
            step()
            intervention = tx.intervention()
            if intervention is not None and intervention.disruptive:
                interrupted, status = True, intervention.status
                break
        tx.process_logging()
        found = tuple(lines)
        ids = tuple(int(m.group(1)) for line in found if (m := _ID.search(line)))
        return OracleVerdict(ids, found, interrupted, status)

    @staticmethod
    def _headers(tx: libmodsecurity.Transaction, request: HttpRequest) -> None:
        for name, value in request.headers:
            tx.add_request_header(name, value)  # type: ignore[arg-type]  # the binding takes bytes too
        tx.process_request_headers()

    @staticmethod
    def _request_body(tx: libmodsecurity.Transaction, request: HttpRequest) -> None:
        if request.body:
            tx.append_request_body(request.body)
        tx.process_request_body()

    @staticmethod
    def _response_headers(tx: libmodsecurity.Transaction, response: HttpResponse) -> None:
        for name, value in response.headers:
            tx.add_response_header(name, value)  # type: ignore[arg-type]
        tx.process_response_headers(response.status, response.protocol.decode("latin-1"))

    @staticmethod
    def _response_body(tx: libmodsecurity.Transaction, response: HttpResponse) -> None:
        if response.body:
            tx.append_response_body(response.body)
        tx.process_response_body()
