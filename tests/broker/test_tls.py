import os
import stat
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from broker.tls import ensure_certificate


def test_self_signed_certificate_for_loopback(tmp_path):
    files = ensure_certificate(tmp_path)
    certificate = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    key = load_pem_private_key(files.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(address) for address in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert stat.S_IMODE(os.stat(files.key).st_mode) == 0o600


def test_kept_while_valid_and_renewed_before_expiry(tmp_path):
    first = ensure_certificate(tmp_path).certificate.read_bytes()
    assert ensure_certificate(tmp_path).certificate.read_bytes() == first
    later = datetime.now(UTC) + timedelta(days=360)
    assert ensure_certificate(tmp_path, now=later).certificate.read_bytes() != first
