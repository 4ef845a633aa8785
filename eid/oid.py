"""Object identifiers of BSI TR-03110 (parts 3 and 4) and their DER encoding (X.690 §8.19).

OIDs are dotted strings (``"0.4.0.127.0.7.2.2.4.2.2"``). ``encode_value``/``decode_value`` handle the
content octets only (as MSE:Set AT's tag 80 carries them); ``encode``/``decode`` the whole ``06`` TLV.
"""

from __future__ import annotations

from eid.errors import MalformedData
from eid.tlv import Tlv, TlvError, decode_single
from eid.tlv import encode as tlv_encode

TAG_OID = 0x06


class OidError(MalformedData):
    """Bytes or text that are not a valid object identifier."""


# bsi-de: itu-t(0) identified-organization(4) etsi(0) reserved(127) etsi-identified-organization(0) 7
BSI_DE = "0.4.0.127.0.7"

# TR-03110-3 §A.2.1.1
STANDARDIZED_DOMAIN_PARAMETERS = f"{BSI_DE}.1.2"

# TR-03110-3 §A.1.1: protocols (bsi-de protocols(2) smartcard(2) …)
ID_PK = f"{BSI_DE}.2.2.1"
ID_PK_DH = f"{ID_PK}.1"
ID_PK_ECDH = f"{ID_PK}.2"

ID_TA = f"{BSI_DE}.2.2.2"
ID_TA_RSA = f"{ID_TA}.1"
ID_TA_RSA_V1_5_SHA_1 = f"{ID_TA_RSA}.1"
ID_TA_RSA_V1_5_SHA_256 = f"{ID_TA_RSA}.2"
ID_TA_RSA_PSS_SHA_1 = f"{ID_TA_RSA}.3"
ID_TA_RSA_PSS_SHA_256 = f"{ID_TA_RSA}.4"
ID_TA_RSA_V1_5_SHA_512 = f"{ID_TA_RSA}.5"
ID_TA_RSA_PSS_SHA_512 = f"{ID_TA_RSA}.6"
ID_TA_ECDSA = f"{ID_TA}.2"
ID_TA_ECDSA_SHA_1 = f"{ID_TA_ECDSA}.1"
ID_TA_ECDSA_SHA_224 = f"{ID_TA_ECDSA}.2"
ID_TA_ECDSA_SHA_256 = f"{ID_TA_ECDSA}.3"
ID_TA_ECDSA_SHA_384 = f"{ID_TA_ECDSA}.4"
ID_TA_ECDSA_SHA_512 = f"{ID_TA_ECDSA}.5"

ID_CA = f"{BSI_DE}.2.2.3"
ID_CA_DH = f"{ID_CA}.1"
ID_CA_DH_3DES_CBC_CBC = f"{ID_CA_DH}.1"
ID_CA_DH_AES_CBC_CMAC_128 = f"{ID_CA_DH}.2"
ID_CA_DH_AES_CBC_CMAC_192 = f"{ID_CA_DH}.3"
ID_CA_DH_AES_CBC_CMAC_256 = f"{ID_CA_DH}.4"
ID_CA_ECDH = f"{ID_CA}.2"
ID_CA_ECDH_3DES_CBC_CBC = f"{ID_CA_ECDH}.1"
ID_CA_ECDH_AES_CBC_CMAC_128 = f"{ID_CA_ECDH}.2"
ID_CA_ECDH_AES_CBC_CMAC_192 = f"{ID_CA_ECDH}.3"
ID_CA_ECDH_AES_CBC_CMAC_256 = f"{ID_CA_ECDH}.4"

ID_PACE = f"{BSI_DE}.2.2.4"
ID_PACE_DH_GM = f"{ID_PACE}.1"
ID_PACE_DH_GM_3DES_CBC_CBC = f"{ID_PACE_DH_GM}.1"
ID_PACE_DH_GM_AES_CBC_CMAC_128 = f"{ID_PACE_DH_GM}.2"
ID_PACE_DH_GM_AES_CBC_CMAC_192 = f"{ID_PACE_DH_GM}.3"
ID_PACE_DH_GM_AES_CBC_CMAC_256 = f"{ID_PACE_DH_GM}.4"
ID_PACE_ECDH_GM = f"{ID_PACE}.2"
ID_PACE_ECDH_GM_3DES_CBC_CBC = f"{ID_PACE_ECDH_GM}.1"
ID_PACE_ECDH_GM_AES_CBC_CMAC_128 = f"{ID_PACE_ECDH_GM}.2"
ID_PACE_ECDH_GM_AES_CBC_CMAC_192 = f"{ID_PACE_ECDH_GM}.3"
ID_PACE_ECDH_GM_AES_CBC_CMAC_256 = f"{ID_PACE_ECDH_GM}.4"
ID_PACE_DH_IM = f"{ID_PACE}.3"
ID_PACE_ECDH_IM = f"{ID_PACE}.4"
ID_PACE_ECDH_CAM = f"{ID_PACE}.6"

ID_RI = f"{BSI_DE}.2.2.5"
ID_RI_DH = f"{ID_RI}.1"
ID_RI_ECDH = f"{ID_RI}.2"
ID_RI_ECDH_SHA_1 = f"{ID_RI_ECDH}.1"
ID_RI_ECDH_SHA_224 = f"{ID_RI_ECDH}.2"
ID_RI_ECDH_SHA_256 = f"{ID_RI_ECDH}.3"
ID_RI_ECDH_SHA_384 = f"{ID_RI_ECDH}.4"
ID_RI_ECDH_SHA_512 = f"{ID_RI_ECDH}.5"

ID_CI = f"{BSI_DE}.2.2.6"
ID_EID_SECURITY = f"{BSI_DE}.2.2.7"
ID_PT = f"{BSI_DE}.2.2.8"
ID_PASSWORD_TYPE = f"{BSI_DE}.2.2.12"
ID_EID_APPLICATION_INFO = f"{BSI_DE}.2.2.13"

# TR-03110-3 §C, TR-03110-4 §2.1–2.2: roles (terminal types) and certificate extensions
ID_ROLES = f"{BSI_DE}.3.1.2"
ID_IS = f"{ID_ROLES}.1"
ID_AT = f"{ID_ROLES}.2"
ID_ST = f"{ID_ROLES}.3"
ID_EID_ACCESS = f"{ID_AT}.1"
ID_SPECIAL_FUNCTIONS = f"{ID_AT}.2"

ID_EXTENSIONS = f"{BSI_DE}.3.1.3"
ID_DESCRIPTION = f"{ID_EXTENSIONS}.1"
ID_PLAIN_FORMAT = f"{ID_DESCRIPTION}.1"
ID_HTML_FORMAT = f"{ID_DESCRIPTION}.2"
ID_PDF_FORMAT = f"{ID_DESCRIPTION}.3"
ID_SECTOR = f"{ID_EXTENSIONS}.2"
ID_PS_SECTOR = f"{ID_EXTENSIONS}.3"

# TR-03110-3 §A.7.5: authenticated auxiliary data
ID_AUXILIARY_DATA = f"{BSI_DE}.3.1.4"
ID_DATE_OF_BIRTH = f"{ID_AUXILIARY_DATA}.1"
ID_DATE_OF_EXPIRY = f"{ID_AUXILIARY_DATA}.2"
ID_MUNICIPALITY_ID = f"{ID_AUXILIARY_DATA}.3"
ID_PSM_MESSAGE = f"{ID_AUXILIARY_DATA}.4"
ID_DG_CONTENT = f"{ID_AUXILIARY_DATA}.5"

# TR-03110-4 §2.2.1, TR-03110-3 §A.1.2.5
ID_EID = f"{BSI_DE}.3.2"
ID_SECURITY_OBJECT = f"{ID_EID}.1"

# X9.62 / RFC 3279 / RFC 5480
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_PRIME_FIELD = "1.2.840.10045.1.1"

NAMES: dict[str, str] = {
    value: name.lower().replace("_", "-")
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and name not in ("BSI_DE",) and value[:1].isdigit()
}


def name(oid: str) -> str:
    """A readable name (``id-pace-ecdh-gm-aes-cbc-cmac-128``) or the dotted form if unknown."""
    return NAMES.get(oid, oid)


def _parse_dotted(oid: str) -> list[int]:
    parts = oid.split(".")
    if len(parts) < 2 or not all(p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts):
        raise OidError(f"{oid!r} is not a dotted object identifier")
    arcs = [int(p) for p in parts]
    if arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39):
        raise OidError(f"{oid!r} has invalid first arcs")
    return arcs


def _base128(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def encode_value(oid: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (without tag and length)."""
    arcs = _parse_dotted(oid)
    return _base128(arcs[0] * 40 + arcs[1]) + b"".join(_base128(a) for a in arcs[2:])


def decode_value(value: bytes) -> str:
    """Dotted form of the content octets of an OBJECT IDENTIFIER."""
    if not value:
        raise OidError("empty object identifier")
    if value[-1] & 0x80:
        raise OidError("object identifier ends inside a sub-identifier")
    numbers: list[int] = []
    current = 0
    start = True
    for byte in value:
        if start and byte == 0x80:
            raise OidError("object identifier sub-identifier has a leading 0x80 byte")
        current = (current << 7) | (byte & 0x7F)
        start = not byte & 0x80
        if start:
            numbers.append(current)
            current = 0
    first = numbers[0]
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return ".".join(str(n) for n in head + numbers[1:])


def encode(oid: str) -> bytes:
    """A complete DER OBJECT IDENTIFIER (tag 06)."""
    return tlv_encode(TAG_OID, encode_value(oid))


def decode(data: bytes) -> str:
    """Dotted form of a complete DER OBJECT IDENTIFIER filling ``data``."""
    return decode_value(decode_single(data, TAG_OID).value)


def split_template(tlv: Tlv, tag: int, what: str, error: type[MalformedData] = MalformedData) -> tuple[str, list[Tlv]]:
    """A constructed object ``tag { 06 oid, … }`` (CHAT, CV public key, certificate extension, auxiliary
    data template): its OID and the data objects after it. ``error`` is raised when it is not one."""
    if tlv.tag != tag:
        raise error(f"expected {what} (tag {tag:X}), found tag {tlv.tag:X}")
    try:
        children = tlv.children
    except TlvError as exc:
        raise error(f"{what} is not TLV: {exc}") from None
    if not children or children[0].tag != TAG_OID:
        raise error(f"{what} does not start with an object identifier")
    return decode_value(children[0].value), children[1:]
