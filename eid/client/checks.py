"""What an eID client checks before it lets the card talk to a provider (BSI TR-03124-1 §2.7).

- every URL it connects to — the tcTokenURL and its redirects, ServerAddress, RefreshAddress and its
  redirects — is https (:func:`require_https`);
- the certificate description is the one the terminal certificate names (hash = its id-description);
- the description's subjectURL is same-origin (RFC 6454) with the tcTokenURL the client was given;
- the hash of every TLS certificate it met (TC token host(s), eID-Server, refresh host(s)) is in the
  description's commCertificates, hashed with the DV certificate's hash function;
- and (as AusweisApp does) TLS server keys are strong enough: RSA ≥ 2000 bits, EC ≥ 250 bits.

Each failed check raises a :class:`CheckFailed` subclass that says which rule was broken; the client then
ends the authentication and tells the server and the browser.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from eid.certificate_description import CertificateDescription, DescriptionMismatch, verify_binding
from eid.chat import Role
from eid.cvc import CvCertificate
from eid.errors import EidError
from eid.paos import Eac1Input

MIN_RSA_BITS = 2000
MIN_EC_BITS = 250
DEFAULT_PORTS = {"https": 443, "http": 80}


class CheckFailed(EidError):
    """A rule of TR-03124-1 the provider or its servers broke."""


class NotHttps(CheckFailed):
    """A URL the client would have to connect to is not https."""


class NotSameOrigin(CheckFailed):
    """The description's subjectURL and the tcTokenURL (or a refresh URL) are of different origins."""


class CertificateNotListed(CheckFailed):
    """A TLS certificate whose hash is not among the description's commCertificates."""


class WeakTlsKey(CheckFailed):
    """A TLS server key below the sizes TR-03116-4 (and AusweisApp) accept."""


class HostMismatch(CheckFailed):
    """The TLS certificate does not name the host the client connected to."""


class BadTerminalCertificates(CheckFailed):
    """EAC1InputType does not carry exactly one terminal certificate with its DV certificate."""


def origin(url: str) -> tuple[str, str, int]:
    """The RFC 6454 origin of a URL: scheme, host (lower case), port (default filled in)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise NotSameOrigin(f"not a URL: {url!r} ({error})") from None
    if not parts.scheme or not parts.hostname:
        raise NotSameOrigin(f"not an absolute URL: {url!r}")
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS.get(scheme, 0)


def same_origin(first: str, second: str) -> bool:
    return origin(first) == origin(second)


def require_https(url: str, what: str) -> None:
    if urlsplit(url).scheme.lower() != "https":
        raise NotHttps(f"{what} {url!r} is not an https URL")


def check_server_certificate(certificate: bytes, host: str) -> None:
    """Host name (subjectAltName) and key size of a DER TLS server certificate; no chain check
    (TR-03124-1 §2.7.1: trust comes from commCertificates)."""
    parsed = x509.load_der_x509_certificate(certificate)
    key = parsed.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise WeakTlsKey(f"the TLS certificate of {host} has an RSA key of {key.key_size} bits")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.key_size < MIN_EC_BITS:
        raise WeakTlsKey(f"the TLS certificate of {host} has an EC key of {key.key_size} bits")
    try:
        names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise HostMismatch(f"the TLS certificate of {host} names no host (no subjectAltName)") from None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        dns = [name.lower() for name in names.get_values_for_type(x509.DNSName)]
        if host.lower() in dns or any(_wildcard_matches(name, host.lower()) for name in dns):
            return
    else:
        if address in names.get_values_for_type(x509.IPAddress):
            return
    raise HostMismatch(f"the TLS certificate does not name the host {host}")


def _wildcard_matches(pattern: str, host: str) -> bool:
    if not pattern.startswith("*."):
        return False
    label, _, rest = host.partition(".")
    return bool(label) and rest == pattern[2:]


@dataclass(frozen=True)
class Provider:
    """The service provider as its terminal certificate and description present it (checked)."""

    terminal: CvCertificate
    dv: CvCertificate
    description: CertificateDescription

    def check_certificate(self, certificate: bytes, url: str) -> None:
        if not self.description.allows(certificate, self.dv):
            subject = x509.load_der_x509_certificate(certificate).subject.rfc4514_string()
            raise CertificateNotListed(f"the TLS certificate of {origin(url)[1]} ({subject}) is not in the "
                                       "certificate description's commCertificates")


def check_eac1(request: Eac1Input, tc_token_url: str, seen: Sequence[tuple[str, bytes]]) -> Provider:
    """The checks of TR-03124-1 §2.7.3 on DIDAuthenticate(EAC1InputType); ``seen`` holds (URL, DER
    certificate) of every TLS server met so far (TC token host(s), eID-Server)."""
    try:
        certificates = [CvCertificate.parse(c) for c in request.certificates]
    except EidError as error:
        raise BadTerminalCertificates(f"EAC1InputType certificate: {error}") from None
    terminals = [c for c in certificates if c.role is Role.TERMINAL]
    if len(terminals) != 1:
        raise BadTerminalCertificates(f"EAC1InputType carries {len(terminals)} terminal certificates, not one")
    terminal = terminals[0]
    issuers = [c for c in certificates if c.chr == terminal.car]
    if len(issuers) != 1:
        raise BadTerminalCertificates(f"EAC1InputType lacks the DV certificate {terminal.car} of {terminal.chr}")
    try:
        verify_binding(request.certificate_description, terminal)
        description = CertificateDescription.parse(request.certificate_description)
    except DescriptionMismatch as error:
        raise CheckFailed(str(error)) from None
    except EidError as error:
        raise CheckFailed(f"certificate description: {error}") from None
    if not description.subject_url:
        raise NotSameOrigin("the certificate description has no subjectURL")
    if not same_origin(description.subject_url, tc_token_url):
        raise NotSameOrigin(f"the provider's subjectURL {description.subject_url} and the tcTokenURL are not "
                            "of the same origin")
    provider = Provider(terminal, issuers[0], description)
    for url, certificate in seen:
        provider.check_certificate(certificate, url)
    return provider
