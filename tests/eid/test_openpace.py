"""Independent cross-check with Debian's openpace tools: certificates made by ``cvc-create`` pass our
verification, and ``cvc-print`` verifies the chain and description our test PKI makes."""

import datetime
import secrets
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from eid.certificate_description import CertificateDescription, verify_binding
from eid.chat import AccessRight
from eid.cvc import CertificateRejected, CvCertificate, ImportedKey, validate_chain
from eid.domain_parameters import by_name
from eid.pki import create_test_pki, private_key

pytestmark = pytest.mark.openpace

RIGHTS = ["--read-dg4", "--read-dg5", "--read-dg17", "--verify-age", "--rid", "--can-allowed"]


@pytest.fixture(scope="module")
def tools():
    missing = [tool for tool in ("cvc-create", "cvc-print") if shutil.which(tool) is None]
    assert not missing, f"{missing} not installed: scripts/test.sh installs the Debian package openpace"


def run(*args, cwd):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def write_key(path, curve_name):
    key = private_key(by_name(curve_name), secrets.token_bytes)
    path.write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


@pytest.mark.parametrize("curve,scheme", [("brainpoolP256r1", "ECDSA_SHA_256"), ("brainpoolP384r1", "ECDSA_SHA_384"),
                                          ("brainpoolP512r1", "ECDSA_SHA_512")])
def test_we_verify_what_cvc_create_makes(tools, tmp_path, curve, scheme):
    write_key(tmp_path / "cvca.pkcs8", curve)
    write_key(tmp_path / "dv.pkcs8", curve)
    (tmp_path / "terms.txt").write_text("Nutzungsbedingungen\n")
    common = ["--expires=351231", f"--scheme={scheme}", *RIGHTS]
    run("cvc-create", "--role=cvca", "--type=at", "--chr=DEOPCVCA00001", "--sign-with=cvca.pkcs8",
        "--out-cert=cvca.cvcert", *common, cwd=tmp_path)
    run("cvc-create", "--role=dv_domestic", "--chr=DEOPDV00001", "--sign-with=cvca.pkcs8", "--sign-as=cvca.cvcert",
        "--key=dv.pkcs8", "--out-cert=dv.cvcert", *common, cwd=tmp_path)
    run("cvc-create", "--role=terminal", "--chr=DEOPAT00001", "--sign-with=dv.pkcs8", "--sign-as=dv.cvcert",
        "--out-cert=at.cvcert", "--out-key=at.pkcs8", "--cert-desc=terms.txt", "--issuer-name=Test DV",
        "--subject-name=Test Service", "--subject-url=https://service.example", "--out-desc=at.desc", *common,
        cwd=tmp_path)
    cvca, dv, terminal = (CvCertificate.parse((tmp_path / name).read_bytes()) for name in ("cvca.cvcert", "dv.cvcert", "at.cvcert"))
    for cert, name in ((cvca, "cvca.cvcert"), (dv, "dv.cvcert"), (terminal, "at.cvcert")):
        assert cert.encode() == (tmp_path / name).read_bytes()
    assert cvca.public_key.curve is by_name(curve)
    today = datetime.datetime.now(datetime.UTC).date()
    chain = validate_chain([dv, terminal], [ImportedKey.trust_point(cvca)], today)
    assert chain.terminal.effective_chat.rights == {
        AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.READ_DG17, AccessRight.AGE_VERIFICATION,
        AccessRight.RESTRICTED_IDENTIFICATION, AccessRight.CAN_ALLOWED,
    }
    description = (tmp_path / "at.desc").read_bytes()
    verify_binding(description, terminal)
    parsed = CertificateDescription.parse(description)
    assert (parsed.issuer_name, parsed.subject_name, parsed.subject_url) == ("Test DV", "Test Service", "https://service.example")
    # a certificate made by cvc-create with another CVCA key does not pass
    write_key(tmp_path / "other.pkcs8", curve)
    run("cvc-create", "--role=cvca", "--type=at", "--chr=DEOPCVCA00001", "--sign-with=other.pkcs8",
        "--out-cert=other.cvcert", *common, cwd=tmp_path)
    impostor = CvCertificate.parse((tmp_path / "other.cvcert").read_bytes())
    with pytest.raises(CertificateRejected):
        validate_chain([dv, terminal], [ImportedKey.trust_point(impostor)], today)


@pytest.mark.parametrize("curve", ["brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "prime256v1"])
def test_cvc_print_verifies_what_we_make(tools, tmp_path, curve):
    from eid import oid

    algorithm = {"brainpoolP256r1": oid.ID_TA_ECDSA_SHA_256, "prime256v1": oid.ID_TA_ECDSA_SHA_256,
                 "brainpoolP384r1": oid.ID_TA_ECDSA_SHA_384, "brainpoolP512r1": oid.ID_TA_ECDSA_SHA_512}[curve]
    pki = create_test_pki(today=datetime.datetime.now(datetime.UTC).date(), curve_name=curve, algorithm=algorithm)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / pki.cvca.chr).write_bytes(pki.cvca.encode())
    (trust / pki.dv.chr).write_bytes(pki.dv.encode())
    (tmp_path / "dv.cvcert").write_bytes(pki.dv.encode())
    (tmp_path / "terminal.cvcert").write_bytes(pki.terminal.encode())
    (tmp_path / "description.der").write_bytes(pki.certificate_description)
    out = run("cvc-print", "--cvc=dv.cvcert", f"--cvc-dir={trust}", cwd=tmp_path)
    assert "certificate verified" in out
    out = run("cvc-print", "--cvc=terminal.cvcert", f"--cvc-dir={trust}", "--description=description.der", cwd=tmp_path)
    assert "certificate verified" in out
    assert "certificate description matches certificate" in out
    assert f"CHR: {pki.terminal.chr}" in out and "Read DG 17" in out


def test_cvc_print_rejects_a_forged_signature(tools, tmp_path):
    import dataclasses

    pki = create_test_pki(today=datetime.datetime.now(datetime.UTC).date())
    forged = dataclasses.replace(pki.terminal, signature=bytes(len(pki.terminal.signature) - 1) + b"\x01")
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / pki.cvca.chr).write_bytes(pki.cvca.encode())
    (trust / pki.dv.chr).write_bytes(pki.dv.encode())
    (tmp_path / "terminal.cvcert").write_bytes(forged.encode())
    result = subprocess.run(["cvc-print", "--cvc=terminal.cvcert", f"--cvc-dir={trust}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert "certificate verified" not in result.stdout
