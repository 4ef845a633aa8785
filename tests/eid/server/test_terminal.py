"""eid/server/terminal.py: the terminal from a ``pki create-test`` directory, its rights and commCertificates."""

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from broker.cli import main
from eid.chat import AccessRight, Chat, Role
from eid.server.certificate import create_self_signed
from eid.server.request import EidRequest, InvalidRequest
from eid.server.terminal import EidTerminal, TerminalConfigError
from tests.eid.server.common import REQUEST, terminal
from tests.support import eid_world


@pytest.fixture(scope="module")
def served():
    return create_self_signed(), create_self_signed()


@pytest.fixture(scope="module")
def directory(tmp_path_factory, served):
    """A directory written by the real CLI, listing both TLS certificates."""
    out = tmp_path_factory.mktemp("pki")
    paths = []
    for number, credentials in enumerate(served):
        path = out.parent / f"tls-{number}.pem"
        path.write_bytes(credentials.certificate_pem)
        paths.append(str(path))
    result = CliRunner().invoke(main, ["pki", "create-test", "--out", str(out), "--subject-url", "https://broker.example",
                                       "--comm-certificate", paths[0], "--comm-certificate", paths[1]])
    assert result.exit_code == 0, result.output
    return out


def test_loads_a_pki_create_test_directory(directory, served):
    loaded = EidTerminal.load(directory, served_certificates=[c.certificate_der for c in served])
    assert loaded.terminal.chr == "DETESTAT00001" and loaded.dv.chr == "DETESTDV00001" and loaded.cvca.chr == "DETESTeID00005"
    assert loaded.certificates == (loaded.dv.encode(), loaded.terminal.encode())
    assert loaded.description.subject_url == "https://broker.example"
    assert loaded.cscas[0].subject.rfc4514_string() == "CN=eid-broker test CSCA,O=eid-broker test PKI,C=DE"
    assert loaded.sector is not None and AccessRight.RESTRICTED_IDENTIFICATION in loaded.rights
    signature = loaded.signer.sign(b"data")
    loaded.terminal.public_key.verification_key(loaded.cvca.public_key.curve).verify(signature, b"data")


def test_a_served_certificate_missing_from_comm_certificates_is_a_configuration_error(directory):
    stranger = create_self_signed(names=("eid.example",))
    with pytest.raises(TerminalConfigError, match="CN=eid.example"):
        EidTerminal.load(directory, served_certificates=[stranger.certificate_der])


def test_the_terminal_key_must_fit_the_certificate(directory, tmp_path):
    for name in ("dv.cvcert", "terminal.cvcert", "description.der", "csca.pem", "cvca.cvcert"):
        (tmp_path / name).write_bytes((directory / name).read_bytes())
    other = eid_world.shared_pki().terminal_key
    (tmp_path / "terminal.key").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(TerminalConfigError, match="is not the key of DETESTAT00001"):
        EidTerminal.load(tmp_path)
    (tmp_path / "terminal.key").write_text("not a key")
    with pytest.raises(TerminalConfigError, match="PEM private key"):
        EidTerminal.load(tmp_path)
    (tmp_path / "terminal.key").unlink()
    with pytest.raises(TerminalConfigError, match="terminal.key"):
        EidTerminal.load(tmp_path)


def test_the_description_must_be_the_one_the_certificate_names():
    other = eid_world.shared_pki().certificate_description + b"\x00"
    with pytest.raises(TerminalConfigError, match="certificate description"):
        terminal(certificate_description=other)


def test_rights_are_the_chain_s_and_requests_are_limited_to_them():
    current = terminal()
    assert current.rights.rights == eid_world.terminal_chat().rights
    required, optional = current.chats_for(REQUEST)
    assert required == Chat(Role.TERMINAL, REQUEST.required) and optional == Chat(Role.TERMINAL, REQUEST.optional)
    beyond = EidRequest(required=frozenset({AccessRight.READ_DG4}), optional=frozenset({AccessRight.READ_DG22}))
    assert current.chats_for(beyond) == (Chat(Role.TERMINAL, {AccessRight.READ_DG4}), None)
    with pytest.raises(InvalidRequest, match="READ_DG22"):
        current.chats_for(EidRequest(required=frozenset({AccessRight.READ_DG22})))
