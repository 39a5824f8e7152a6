"""A development CA and leaf certificates for the embedded stack (and for tests).

Files are written with mode 0600 and reused when present, so a second `originguard up` keeps the
CA a user may already trust. Leaf certificates are valid 397 days, the CA/Browser Forum's limit
for TLS server certificates (scanners such as testssl flag longer ones), and are issued again when
fewer than 30 days remain, or when the CA is not the one that signed them.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_VALIDITY = datetime.timedelta(days=397)
# The CA is only trusted by whoever adds it on purpose; a long life spares them re-trusting it.
CA_VALIDITY = datetime.timedelta(days=3650)
RENEW_BEFORE = datetime.timedelta(days=30)
BACKDATE = datetime.timedelta(minutes=5)  # a peer whose clock is a little behind still accepts it


@dataclass(frozen=True)
class CertFiles:
    certificate: Path
    key: Path


def ensure_dev_pki(
    directory: Path, leaves: dict[str, list[str]], now: datetime.datetime | None = None
) -> dict[str, CertFiles]:
    """Create (or reuse) `ca.crt/key` and one `<name>.crt/key` per leaf with the given SANs;
    a certificate with fewer than 30 days left at `now` (default: the clock) is issued again."""
    when = now if now is not None else datetime.datetime.now(datetime.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca_files = CertFiles(directory / "ca.crt", directory / "ca.key")
    if _needs_issuing(ca_files, when, None):
        _write_ca(ca_files, when)
    ca_cert = x509.load_pem_x509_certificate(ca_files.certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_files.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    out = {"ca": ca_files}
    for name, sans in leaves.items():
        files = CertFiles(directory / f"{name}.crt", directory / f"{name}.key")
        if _needs_issuing(files, when, ca_key):
            _write_leaf(files, sans, ca_cert, ca_key, when)
        out[name] = files
    return out


def _needs_issuing(
    files: CertFiles, now: datetime.datetime, issuer: ec.EllipticCurvePrivateKey | None
) -> bool:
    """Missing, unreadable, within RENEW_BEFORE of its end, or (a leaf) not signed by `issuer`."""
    if not (files.certificate.exists() and files.key.exists()):
        return True
    try:
        cert = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    except ValueError:
        return True
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return True
    if issuer is None:
        return False
    algorithm = cert.signature_hash_algorithm
    if algorithm is None:
        return True
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
    except InvalidSignature:
        return True  # the CA was made anew: its old leaves no longer chain to it
    return False


def _write_ca(files: CertFiles, now: datetime.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "originguard development CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_pair(files, cert, key)


def _write_leaf(
    files: CertFiles,
    sans: list[str],
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: datetime.datetime,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now - BACKDATE + LEAF_VALIDITY)  # the whole span counts, backdating too
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_pair(files, cert, key)


def _write_pair(files: CertFiles, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for path, data in (
        (files.key, key_pem),
        (files.certificate, cert.public_bytes(serialization.Encoding.PEM)),
    ):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
