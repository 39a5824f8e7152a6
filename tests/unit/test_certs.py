"""The development PKI: leaves valid at most 397 days, issued again when under 30 days remain."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509

from originguard.certs import ensure_dev_pki
from originguard.stack.run import prepare_default

LEAVES = {"edge": ["localhost", "127.0.0.1"], "gate": ["gate.originguard.test"]}
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_leaf_certificates_are_valid_at_most_397_days_and_the_ca_longer(tmp_path: Path) -> None:
    made = ensure_dev_pki(tmp_path, LEAVES, now=START)
    for name in LEAVES:
        leaf = certificate(made[name].certificate)
        assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(days=397)
    ca = certificate(made["ca"].certificate)
    assert ca.not_valid_after_utc - START > datetime.timedelta(days=397)


def test_a_leaf_with_20_days_left_is_issued_again_and_a_fresh_one_is_reused(tmp_path: Path) -> None:
    made = ensure_dev_pki(tmp_path, LEAVES, now=START)
    first = {name: made[name].certificate.read_bytes() for name in ("ca", *LEAVES)}
    later = START + datetime.timedelta(days=300)  # 97 days left: kept
    ensure_dev_pki(tmp_path, LEAVES, now=later)
    assert {name: made[name].certificate.read_bytes() for name in first} == first
    late = START + datetime.timedelta(days=377)  # 20 days left: issued again
    ensure_dev_pki(tmp_path, LEAVES, now=late)
    for name in LEAVES:
        renewed = certificate(made[name].certificate)
        assert made[name].certificate.read_bytes() != first[name]
        assert renewed.not_valid_after_utc - late > datetime.timedelta(days=390)
    assert made["ca"].certificate.read_bytes() == first["ca"], "the CA a user trusts is kept"


def test_leaves_the_ca_did_not_sign_are_issued_again(tmp_path: Path) -> None:
    made = ensure_dev_pki(tmp_path, LEAVES, now=START)
    before = made["edge"].certificate.read_bytes()
    made["ca"].certificate.unlink()  # a new CA: the old leaves would no longer verify
    ensure_dev_pki(tmp_path, LEAVES, now=START)
    assert made["edge"].certificate.read_bytes() != before


def test_up_renews_a_leaf_close_to_its_end(tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    made = ensure_dev_pki(tmp_path / "certs", LEAVES, now=now - datetime.timedelta(days=377))
    prepare_default(tmp_path)  # what `originguard up` runs first
    edge = certificate(made["edge"].certificate)
    assert edge.not_valid_after_utc - now > datetime.timedelta(days=390)
