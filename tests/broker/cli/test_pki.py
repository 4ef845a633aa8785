import datetime
import stat

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from broker.cli import main
from broker.cli.pki import parse_chat
from eid import card_profile
from eid.chat import AccessRight
from eid.cvc import CvCertificate, ImportedKey, validate_chain
from eid.passive_authentication import load_csca_list, verify


def create(tmp_path, *arguments):
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "pki", "create-test", "--out",
                                     str(tmp_path / "pki"), *arguments])


def test_create_test_writes_a_consistent_pki(tmp_path):
    result = create(tmp_path, "--cvca-chr", "DETESTeID00005", "--date", "2025-03-01", "--chat", "READ_DG4,read-dg5,AGE_VERIFICATION")
    assert result.exit_code == 0, result.output
    out = tmp_path / "pki"
    cvca, dv, terminal = (CvCertificate.parse((out / f"{n}.cvcert").read_bytes()) for n in ("cvca", "dv", "terminal"))
    assert cvca.chr == "DETESTeID00005"
    profile = card_profile.load((out / "card.json").read_text(encoding="utf-8"))
    trust = ImportedKey.trust_point(CvCertificate.parse(profile.trust_points[0]))
    chain = validate_chain([dv, terminal], [trust], profile.current_date)
    assert chain.terminal.effective_chat.rights == {AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.AGE_VERIFICATION}
    key = serialization.load_pem_private_key((out / "terminal.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert verify(profile.card_security, load_csca_list((out / "csca.pem").read_bytes()),
                  datetime.datetime(2025, 3, 2, tzinfo=datetime.UTC))
    x509.load_pem_x509_certificate((out / "ds.pem").read_bytes())
    assert stat.S_IMODE((out / "terminal.key").stat().st_mode) == 0o600
    assert "PRIVATE" not in result.output and "123456" not in result.output
    # a second run refuses to overwrite unless told to
    again = create(tmp_path)
    assert again.exit_code != 0 and "--force" in again.output
    assert create(tmp_path, "--force", "--curve", "brainpoolP384r1").exit_code == 0


def test_comm_certificate_hashes_go_into_the_description(tmp_path):
    from eid.certificate_description import CertificateDescription
    from eid.pki import create_test_pki

    tls = create_test_pki(today=datetime.date(2025, 3, 1)).csca  # any PEM certificate will do
    pem = tmp_path / "tls.pem"
    pem.write_bytes(tls.public_bytes(serialization.Encoding.PEM))
    assert create(tmp_path, "--comm-certificate", str(pem), "--subject-url", "https://127.0.0.1:8443").exit_code == 0
    description = CertificateDescription.parse((tmp_path / "pki" / "description.der").read_bytes())
    dv = CvCertificate.parse((tmp_path / "pki" / "dv.cvcert").read_bytes())
    assert description.allows(tls.public_bytes(serialization.Encoding.DER), dv)
    assert description.subject_url == "https://127.0.0.1:8443"


@pytest.mark.parametrize("arguments", [["--chat", "READ_DG99"], ["--chat", "C000000000"], ["--date", "tomorrow"]])
def test_bad_options(tmp_path, arguments):
    result = create(tmp_path, *arguments)
    assert result.exit_code == 2, result.output


def test_parse_chat_hex():
    assert parse_chat("0000000110").rights == {AccessRight.READ_DG1, AccessRight.CAN_ALLOWED}
