"""Detection and false-positive rates of the `core` group on the hand-written corpus (printed)."""

from __future__ import annotations

from .corpus import ATTACK_FILES, as_json, as_query, core_acl, lines


def test_core_group_detection_and_false_positive_rates() -> None:
    acl = core_acl()
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
    print("\nWAF core group on tests/data/waf:")
    print("\n".join(report))
    print(f"  detection {detected}/{total} = {detection:.1%}")
    print(f"  false positives {len(false_positives)}/{len(benign) + len(benign_json)} = {fp_rate:.1%}")
    for value, reason in false_positives:
        print(f"    FP {value!r}: {reason}")
    assert detection >= 0.90
    assert fp_rate <= 0.02
