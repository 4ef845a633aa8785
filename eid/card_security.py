"""EF.CardSecurity: SecurityInfos signed by the Document Signer as CMS SignedData (BSI TR-03110-3
§A.1.2.5, RFC 5652) with eContentType id-SecurityObject.

``asn1crypto`` reads and writes the CMS and X.509 structures (this is its one place in eid/);
``cryptography`` does the signatures. Document Signer and CSCA keys of real ID cards use *explicit*
brainpool domain parameters, which ``cryptography`` refuses to load; :func:`certificate_public_key`
maps them onto the supported curves first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from eid import oid
from eid.domain_parameters import UnsupportedDomainParameters, by_explicit
from eid.errors import MalformedData, VerificationFailed
from eid.security_infos import SecurityInfos, parse_security_infos

PublicKey = crypto_ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = crypto_ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


class CardSecurityError(MalformedData):
    """Bytes that are not a SignedData security object as TR-03110 describes it."""


class SignatureCheckFailed(VerificationFailed):
    """A CMS or X.509 signature that does not verify (or uses an algorithm we cannot check)."""


def _hash(name: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[name]()
    except KeyError:
        raise SignatureCheckFailed(f"hash algorithm {name} is not supported") from None


# -- public keys of X.509 certificates ------------------------------------------------------------

def certificate_public_key(certificate: bytes) -> PublicKey:
    """The public key of a DER X.509 certificate, explicit EC domain parameters included."""
    try:
        info = asn1_x509.Certificate.load(certificate)["tbs_certificate"]["subject_public_key_info"]
        algorithm = info["algorithm"]
        if algorithm["algorithm"].native == "ec" and algorithm["parameters"].name == "specified":
            specified = algorithm["parameters"].chosen
            curve = _specified_curve(specified)
            point = info["public_key"].native
            return crypto_ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), point)
        key = serialization.load_der_public_key(info.dump())
    except UnsupportedDomainParameters:
        raise
    except (UnsupportedAlgorithm, *_ASN1_ERRORS) as exc:
        raise CardSecurityError(f"cannot read the certificate's public key: {exc}") from None
    if not isinstance(key, (crypto_ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise SignatureCheckFailed(f"{type(key).__name__} keys are not supported")
    return key


def _specified_curve(specified: keys.SpecifiedECDomain):
    if specified["field_id"]["field_type"].native != "prime_field":
        raise UnsupportedDomainParameters("only prime-field curves are supported")
    base = specified["base"].native
    half = len(base) // 2
    if len(base) % 2 != 1 or base[:1] != b"\x04":
        raise CardSecurityError("explicit EC base point must be uncompressed")
    return by_explicit(
        specified["field_id"]["parameters"].native,
        int.from_bytes(specified["curve"]["a"].native, "big"),
        int.from_bytes(specified["curve"]["b"].native, "big"),
        int.from_bytes(base[1 : 1 + half], "big"),
        int.from_bytes(base[1 + half :], "big"),
        specified["order"].native,
    )


def verify_signature(public_key: PublicKey, algorithm: algos.SignedDigestAlgorithm, digest_algorithm: str | None,
                     signature: bytes, data: bytes) -> None:
    """Check an X.509/CMS signature (ECDSA, RSA PKCS#1 v1.5, RSASSA-PSS); raises SignatureCheckFailed."""
    try:
        signature_algorithm = algorithm.signature_algo
        if signature_algorithm == "rsassa_pss":
            parameters = algorithm["parameters"]
            hash_name = parameters["hash_algorithm"]["algorithm"].native
            salt = parameters["salt_length"].native
            scheme = ("pss", hash_name, salt)
        else:
            try:
                hash_name = algorithm.hash_algo
            except ValueError:
                if digest_algorithm is None:
                    raise
                hash_name = digest_algorithm  # e.g. signatureAlgorithm "ecdsa" with the digest named apart
            scheme = (signature_algorithm, hash_name, None)
    except _ASN1_ERRORS as exc:
        raise SignatureCheckFailed(f"unsupported signature algorithm: {exc}") from None
    kind, hash_name, salt = scheme
    chosen = _hash(hash_name)
    try:
        if kind == "ecdsa" and isinstance(public_key, crypto_ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, crypto_ec.ECDSA(chosen))
        elif kind == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), chosen)
        elif kind == "pss" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PSS(padding.MGF1(chosen), salt), chosen)
        else:
            raise SignatureCheckFailed(f"signature algorithm {kind} does not fit a {type(public_key).__name__}")
    except InvalidSignature:
        raise SignatureCheckFailed("signature does not verify") from None


def verify_certificate_signature(certificate: bytes, issuer_public_key: PublicKey) -> None:
    """Check that ``issuer_public_key`` signed the DER X.509 ``certificate``."""
    try:
        parsed = asn1_x509.Certificate.load(certificate)
        tbs = parsed["tbs_certificate"].dump()
        algorithm = parsed["signature_algorithm"]
        value = parsed["signature_value"].native
    except _ASN1_ERRORS as exc:
        raise CardSecurityError(f"not an X.509 certificate: {exc}") from None
    verify_signature(issuer_public_key, algorithm, None, value, tbs)


# -- the security object ------------------------------------------------------------------------

@dataclass(frozen=True)
class CardSecurity:
    """A parsed EF.CardSecurity (or EF.ChipSecurity)."""

    content: bytes
    """The eContent: DER SecurityInfos as signed."""
    security_infos: SecurityInfos
    signer_certificate: bytes
    """DER X.509 Document Signer certificate found in SignedData.certificates."""
    digest_algorithm: str
    signed_attributes: bytes
    """DER of the signed attributes as a SET, which is what the signature covers."""
    message_digest: bytes
    signature: bytes
    raw: bytes

    @property
    def document_signer(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.signer_certificate)

    @classmethod
    def parse(cls, data: bytes) -> CardSecurity:
        try:
            info = cms.ContentInfo.load(data, strict=True)
            if info["content_type"].native != "signed_data":
                raise CardSecurityError(f"content type {info['content_type'].native} is not signed data")
            signed = info["content"]
            encapsulated = signed["encap_content_info"]
            content_type = encapsulated["content_type"].dotted
            if content_type != oid.ID_SECURITY_OBJECT:
                raise CardSecurityError(f"eContentType {content_type} is not id-SecurityObject")
            content = encapsulated["content"].native
            if not isinstance(content, bytes):
                raise CardSecurityError("SignedData has no encapsulated content")
            signer_infos = signed["signer_infos"]
            if len(signer_infos) != 1:
                raise CardSecurityError(f"expected one SignerInfo, found {len(signer_infos)}")
            signer = signer_infos[0]
            certificate = _signer_certificate(signed, signer)
            x509.load_der_x509_certificate(certificate)  # what asn1crypto let through, cryptography must read too
            attributes = signer["signed_attrs"]
            if not attributes.contents:
                raise CardSecurityError("SignerInfo without signed attributes")
            values = {a["type"].native: a["values"] for a in attributes}
            if "content_type" not in values or "message_digest" not in values:
                raise CardSecurityError("signed attributes must hold content-type and message-digest")
            if values["content_type"][0].dotted != oid.ID_SECURITY_OBJECT:
                raise CardSecurityError("signed content-type attribute is not id-SecurityObject")
            digest_name = signer["digest_algorithm"]["algorithm"].native
            signed_attributes = cms.CMSAttributes(list(attributes)).dump(force=True)
            message_digest = values["message_digest"][0].native
            sig = signer["signature"].native
        except _ASN1_ERRORS as exc:
            raise CardSecurityError(f"EF.CardSecurity is not a valid SignedData: {exc}") from None
        return cls(content, parse_security_infos(content), certificate, digest_name, signed_attributes,
                   message_digest, sig, bytes(data))

    def signer_info(self) -> cms.SignerInfo:
        return cms.ContentInfo.load(self.raw)["content"]["signer_infos"][0]

    def verify_signature(self, signer_public_key: PublicKey | None = None) -> None:
        """Check the digest of the content and the signature over the signed attributes."""
        h = hashes.Hash(_hash(self.digest_algorithm))
        h.update(self.content)
        if h.finalize() != self.message_digest:
            raise SignatureCheckFailed("message digest does not match the security object")
        key = signer_public_key or certificate_public_key(self.signer_certificate)
        verify_signature(key, self.signer_info()["signature_algorithm"], self.digest_algorithm, self.signature, self.signed_attributes)


def _signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo) -> bytes:
    sid = signer["sid"]
    for choice in signed["certificates"]:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if cert.issuer == sid.chosen["issuer"] and cert.serial_number == sid.chosen["serial_number"].native:
                return cert.dump()
        elif cert.key_identifier == sid.chosen.native:
            return cert.dump()
    raise CardSecurityError("the Document Signer certificate is not in SignedData.certificates")


def build_card_security(
    security_infos: bytes,
    signer_certificate: x509.Certificate,
    signer_key: PrivateKey,
    digest_algorithm: str = "sha256",
    signing_time: datetime.datetime | None = None,
) -> bytes:
    """Sign DER SecurityInfos as EF.CardSecurity (the Document Signer's role in personalisation)."""
    chosen = _hash(digest_algorithm)
    h = hashes.Hash(chosen)
    h.update(security_infos)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType(oid.ID_SECURITY_OBJECT)]}),
        cms.CMSAttribute({"type": "message_digest", "values": [core.OctetString(h.finalize())]}),
    ]
    if signing_time is not None:
        attributes.append(cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}))
    signed_attributes = cms.CMSAttributes(attributes)
    to_sign = signed_attributes.dump()
    if isinstance(signer_key, crypto_ec.EllipticCurvePrivateKey):
        sig = signer_key.sign(to_sign, crypto_ec.ECDSA(chosen))
        signature_algorithm = {"algorithm": f"{digest_algorithm}_ecdsa"}
    else:
        sig = signer_key.sign(to_sign, padding.PKCS1v15(), chosen)
        signature_algorithm = {"algorithm": f"{digest_algorithm}_rsa"}
    certificate = asn1_x509.Certificate.load(signer_certificate.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": certificate.issuer, "serial_number": certificate.serial_number})}),
        "digest_algorithm": {"algorithm": digest_algorithm},
        "signed_attrs": signed_attributes,
        "signature_algorithm": signature_algorithm,
        "signature": sig,
    })
    signed = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": digest_algorithm}],
        "encap_content_info": {"content_type": oid.ID_SECURITY_OBJECT, "content": security_infos},
        "certificates": [certificate],
        "signer_infos": [signer],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()

