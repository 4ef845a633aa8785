"""The self-signed TLS certificate ``eid-broker serve`` uses by default (RSA 3072, SAN localhost and
127.0.0.1: AusweisApp and browsers check the host name even on loopback)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERTIFICATE_FILE = "tls-certificate.pem"
KEY_FILE = "tls-key.pem"
VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=14)


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


def _still_valid(path: Path, now: datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return certificate.not_valid_after_utc - RENEW_BEFORE > now


def self_signed_certificate(key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eid-broker (self-signed)")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )


def ensure_certificate(data_dir: Path, now: datetime | None = None) -> TlsFiles:
    """The certificate and key in ``data_dir``, made (again) when missing or about to expire."""
    now = now or datetime.now(UTC)
    files = TlsFiles(certificate=data_dir / CERTIFICATE_FILE, key=data_dir / KEY_FILE)
    if files.key.exists() and _still_valid(files.certificate, now):
        return files
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    certificate = self_signed_certificate(key, now)
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
