"""The eID-Server's TLS certificate: a self-signed RSA certificate for the TC-token download and PAOS.

AusweisApp accepts a self-signed TLS certificate — trust comes from the CV certificate's description,
whose ``commCertificates`` must list the hash of every TLS certificate the client sees (TR-03124-1
§2.7.3) — but it checks the host name, requires RSA of at least 2000 bits, and offers only RSA-PSK
suites for the PSK mode. So the server uses one RSA certificate (≥ 2048 bits) with the names it is
reached under as subjectAltName, for both the TC-token download and the PAOS channel. Its hash for
commCertificates: eid.certificate_description.comm_certificate_hashes([credentials.certificate_der], …).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MIN_RSA_BITS = 2048
DEFAULT_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class TlsCredentials:
    """A certificate chain (leaf first, PEM) and its private key (PEM, unencrypted)."""

    certificate_pem: bytes
    private_key_pem: bytes = field(repr=False)

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem)

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``tls-certificate.pem`` and ``tls-key.pem`` (mode 600) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        certificate_path = directory / "tls-certificate.pem"
        key_path = directory / "tls-key.pem"
        certificate_path.write_bytes(self.certificate_pem)
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.chmod(0o600)
        key_path.write_bytes(self.private_key_pem)
        return certificate_path, key_path

    @classmethod
    def read(cls, certificate_path: Path, key_path: Path) -> TlsCredentials:
        credentials = cls(certificate_path.read_bytes(), key_path.read_bytes())
        key = credentials.certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
            raise ValueError(f"{certificate_path}: the eID-Server needs an RSA certificate of at least {MIN_RSA_BITS} bits")
        return credentials


def create_self_signed(names: Sequence[str] = DEFAULT_NAMES, key_bits: int = MIN_RSA_BITS,
                       now: datetime.datetime | None = None, days: int = 825) -> TlsCredentials:
    """A fresh RSA key and a self-signed server certificate for ``names`` (DNS names or IP addresses)."""
    if key_bits < MIN_RSA_BITS:
        raise ValueError(f"RSA keys for the eID-Server need at least {MIN_RSA_BITS} bits")
    if not names:
        raise ValueError("the certificate needs at least one name")
    now = now or datetime.datetime.now(datetime.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternative_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative_names.append(x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TlsCredentials(
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
    )
