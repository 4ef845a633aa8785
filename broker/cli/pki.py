"""``eid-broker pki create-test``: a test PKI for the eID function and a virtual card under it."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import click

KEY_FILES = {"terminal.key", "cvca.key", "dv.key", "sector-1.key", "sector-2.key", "csca.key", "ds.key", "card.json"}


def parse_chat(text: str):
    """A terminal CHAT from 10 hex digits (the relative authorization) or comma-separated right names."""
    from eid.chat import AccessRight, Chat, Role, TerminalType

    text = text.strip()
    if len(text) == 10 and all(c in "0123456789abcdefABCDEF" for c in text):
        chat = Chat.from_mask(TerminalType.AUTHENTICATION_TERMINAL, int(text, 16))
        if chat.role is not Role.TERMINAL:
            raise click.BadParameter("the relative authorization must have the terminal role (first two bits 00)")
        return chat
    rights = set()
    for name in filter(None, (part.strip().upper().replace("-", "_") for part in text.split(","))):
        try:
            rights.add(AccessRight[name])
        except KeyError:
            raise click.BadParameter(f"unknown access right {name}; known: {', '.join(r.name for r in AccessRight)}") from None
    return Chat(Role.TERMINAL, frozenset(rights))


@click.group("pki")
def pki() -> None:
    """Test PKIs for the eID function (never for production)."""


@pki.command("create-test")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the certificates, keys and card.json.")
@click.option("--cvca-chr", default="DETESTeID00005", show_default=True,
              help="Holder reference of the CVCA (AusweisApp's simulator expects DETESTeID00005).")
@click.option("--dv-chr", default="DETESTDV00001", show_default=True)
@click.option("--terminal-chr", default="DETESTAT00001", show_default=True)
@click.option("--chat", "chat_text", default=None,
              help="Terminal rights: 10 hex digits (e.g. 00011F7FF5) or names (READ_DG4,READ_DG5,AGE_VERIFICATION).")
@click.option("--curve", default="brainpoolP256r1", show_default=True,
              type=click.Choice(["brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "prime256v1", "secp384r1"]))
@click.option("--days", default=3 * 365, show_default=True, help="Validity of the CV certificates in days.")
@click.option("--subject-url", default="https://localhost:8443", show_default=True,
              help="subjectURL of the certificate description (AusweisApp checks it against the TC token URL).")
@click.option("--comm-certificate", "comm_certificates", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="PEM TLS certificate whose hash goes into commCertificates (repeatable).")
@click.option("--date", "date_text", default=None, help="Issue date YYYY-MM-DD (default: today, UTC).")
@click.option("--force", is_flag=True, help="Overwrite existing files in the output directory.")
def create_test(out_dir: Path, cvca_chr: str, dv_chr: str, terminal_chr: str, chat_text: str | None, curve: str,
                days: int, subject_url: str, comm_certificates: tuple[Path, ...], date_text: str | None,
                force: bool) -> None:
    """Write cvca/dv/terminal.cvcert, terminal.key, csca.pem, ds.pem and card.json (and more) to --out."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from eid import oid
    from eid.card_profile import dump
    from eid.errors import EidError
    from eid.pki import create_card_profile, create_test_pki

    today = datetime.datetime.now(datetime.UTC).date()
    if date_text:
        try:
            today = datetime.date.fromisoformat(date_text)
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
    chat = parse_chat(chat_text) if chat_text else None
    algorithm = {"brainpoolP256r1": oid.ID_TA_ECDSA_SHA_256, "prime256v1": oid.ID_TA_ECDSA_SHA_256,
                 "brainpoolP384r1": oid.ID_TA_ECDSA_SHA_384, "secp384r1": oid.ID_TA_ECDSA_SHA_384,
                 "brainpoolP512r1": oid.ID_TA_ECDSA_SHA_512}[curve]
    tls = []
    for path in comm_certificates:
        try:
            tls.append(x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER))
        except ValueError as exc:
            raise click.BadParameter(f"{path}: not a PEM certificate ({exc})", param_hint="--comm-certificate") from None
    try:
        test_pki = create_test_pki(today=today, cvca_chr=cvca_chr, dv_chr=dv_chr, terminal_chr=terminal_chr, chat=chat,
                                   curve_name=curve, algorithm=algorithm, validity_days=days, subject_url=subject_url,
                                   comm_certificates=tls)
        profile = create_card_profile(test_pki, today=today)
    except (EidError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    files = test_pki.files()
    files["card.json"] = dump(profile).encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = [name for name in files if (out_dir / name).exists()]
    if existing and not force:
        raise click.ClickException(f"{out_dir} already holds {', '.join(sorted(existing))}; use --force to overwrite")
    for name, content in files.items():
        path = out_dir / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        descriptor = os.open(path, flags, 0o600 if name in KEY_FILES else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
    click.echo(f"test PKI in {out_dir}: CVCA {test_pki.cvca.chr} → DV {test_pki.dv.chr} → terminal {test_pki.terminal.chr}")
    click.echo(f"terminal rights: {', '.join(test_pki.terminal.chat.describe())}")
    click.echo(f"card.json: {profile.person.given_names} {profile.person.family_names}, card date {profile.current_date}")
