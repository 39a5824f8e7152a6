"""Detection and false-positive rates of the OWASP CRS (PL1, blocking) on the hand-written corpus."""

from __future__ import annotations

from .corpus import ATTACK_FILES, as_json, as_query, crs_acl, lines


def test_crs_detection_and_false_positive_rates_on_the_hand_written_corpus() -> None:
    acl = crs_acl()
    detected = total = 0
    report: list[str] = []
    for name in ATTACK_FILES:
        values = lines(name)
        missed = [v for v in values if not as_query(acl, v).blocked]
        detected += len(values) - len(missed)
        total += len(values)
        report.append(f"  {name:14} {len(values) - len(missed):3}/{len(values):3} missed: {missed}")
    benign = lines("benign.txt")
    benign_json = lines("benign-json.txt")
    false_positives = [(v, as_query(acl, v).reason) for v in benign if as_query(acl, v).blocked]
    false_positives += [(v, as_json(acl, v).reason) for v in benign_json if as_json(acl, v).blocked]
    detection = detected / total
    fp_rate = len(false_positives) / (len(benign) + len(benign_json))
    print("\nOWASP CRS, paranoia level 1, on tests/data/waf:")
    print("\n".join(report))
    print(f"  detection {detected}/{total} = {detection:.1%}")
    print(f"  false positives {len(false_positives)}/{len(benign) + len(benign_json)} = {fp_rate:.1%}")
    for value, reason in false_positives:
        print(f"    FP {value!r}: {reason}")
    # CRS 4.28 at PL1 detects 146 of the 154 and flags 8 of the 217 benign values, each by a rule
    # written to (code-like prose: `if (x > 0) {`, `ls -la`, `../`); the bars sit just below that.
    assert detection >= 0.94
    assert fp_rate <= 0.04
