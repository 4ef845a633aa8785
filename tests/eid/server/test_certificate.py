"""eid/server/certificate.py: the self-signed RSA server certificate."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from eid.server.certificate import TlsCredentials, create_self_signed


@pytest.fixture(scope="module")
def credentials():
    return create_self_signed(now=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC))


def test_rsa_2048_with_the_loopback_names(credentials):
    certificate = credentials.certificate
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert certificate.issuer == certificate.subject
    assert certificate.not_valid_before_utc == datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC) - datetime.timedelta(minutes=5)
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage


def test_other_names_and_larger_keys():
    credentials = create_self_signed(["eid.musterstadt.example", "10.0.0.7"], key_bits=3072)
    certificate = credentials.certificate
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["eid.musterstadt.example"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.7")]
    assert certificate.public_key().key_size == 3072


@pytest.mark.parametrize("names,bits", [(["localhost"], 1024), ([], 2048)])
def test_refuses_weak_keys_and_nameless_certificates(names, bits):
    with pytest.raises(ValueError):
        create_self_signed(names, key_bits=bits)


def test_written_and_read_back(credentials, tmp_path):
    certificate_path, key_path = credentials.write(tmp_path / "tls")
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert TlsCredentials.read(certificate_path, key_path) == credentials


def test_reading_refuses_a_non_rsa_certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    with pytest.raises(ValueError, match="RSA certificate"):
        TlsCredentials.read(tmp_path / "c.pem", tmp_path / "k.pem")


def test_private_key_stays_out_of_repr(credentials):
    assert b"PRIVATE" not in repr(credentials).encode()
