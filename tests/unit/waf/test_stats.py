"""Counters, sampled requests and block log records; secret header values are never recorded."""

from __future__ import annotations

from originguard.waf import SampledRequests, WafStats, block_log_record

from .helpers import acl, request, rules_acl, run

SECRET = "s3cr3t-origin-verify-value"


def test_stats_count_allowed_blocked_and_counted_per_rule() -> None:
    compiled = rules_acl(
        [
            {
                "name": "watch",
                "priority": 1,
                "action": "count",
                "statement": {"byte_match": {"field": "method", "search": "GET"}},
            },
            {
                "name": "no-admin",
                "priority": 2,
                "action": "block",
                "statement": {"byte_match": {"field": "path", "search": "/admin"}},
            },
        ]
    )
    stats = WafStats()
    for path in ("/admin", "/shop", "/shop"):
        stats.record(run(compiled, request(path)))
    assert stats.snapshot() == {
        "watch": {"allowed": 0, "blocked": 0, "counted": 3},
        "no-admin": {"allowed": 0, "blocked": 1, "counted": 0},
        "(default)": {"allowed": 2, "blocked": 0, "counted": 0},
    }


def test_sampled_requests_is_a_bounded_ring_and_samples_every_nth() -> None:
    compiled = acl({"byte_match": {"field": "path", "search": "/never"}})
    samples = SampledRequests(capacity=3, every=2)
    taken = [samples.offer(request(f"/{i}"), run(compiled, request(f"/{i}")), float(i)) for i in range(10)]
    assert taken == [True, False] * 5
    assert [item["path"] for item in samples.items()] == ["/4", "/6", "/8"]


def test_block_record_names_rule_labels_field_and_truncates_value() -> None:
    compiled = rules_acl(
        [
            {
                "name": "long",
                "priority": 1,
                "action": "block",
                "labels": ["x:y"],
                "statement": {"byte_match": {"field": "query", "search": "evil"}},
            }
        ]
    )
    req = request(query="evil" + "a" * 200)
    record = block_log_record(req, run(compiled, req), 5.0)
    assert record["rule"] == "long" and record["labels"] == ["x:y"] and record["field"] == "query"
    assert record["action"] == "block" and len(record["value"]) == 64


def test_secret_header_values_are_never_recorded() -> None:
    statements = [
        {"byte_match": {"field": {"header": "x-origin-verify"}, "search": "s3cr3t"}},
        {"byte_match": {"field": "all_headers", "search": "s3cr3t"}},
        {"rate_based": {"limit": 1, "keys": [{"header": "x-origin-verify"}]}},
    ]
    req = request(headers={"X-Origin-Verify": SECRET, "User-Agent": "t"})
    for statement in statements:
        compiled = acl(statement)
        verdict = run(compiled, req)
        if not verdict.blocked:  # the rate rule needs a second request
            from originguard.waf import RateState

            rate = RateState()
            run(compiled, req, rate=rate)
            verdict = run(compiled, req, rate=rate)
        assert verdict.blocked
        record = block_log_record(req, verdict, 0.0, {"X-Origin-Verify"})
        assert SECRET not in repr(record) and "s3cr3t" not in repr(record)
        samples = SampledRequests(secret_headers={"x-origin-verify"})
        samples.offer(req, verdict, 0.0)
        assert "s3cr3t" not in repr(samples.items())
        assert ["user-agent", "t"] in samples.items()[0]["headers"]
