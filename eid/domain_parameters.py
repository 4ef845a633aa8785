"""Standardized elliptic-curve domain parameters (BSI TR-03110-3 §A.2.1.1, table 4; RFC 5639; FIPS 186-4).

The values were exported with ``openssl ecparam -name <curve> -param_enc explicit`` and are checked
against ``cryptography``'s curves by the tests. Only the prime curves that ``cryptography`` supports are
listed (ids 12, 13, 15, 16, 17, 18); the German ID card uses brainpoolP256r1 (id 13).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from eid.errors import EidError


class UnsupportedDomainParameters(EidError):
    """Domain parameters this implementation does not support."""


@dataclass(frozen=True, slots=True)
class Curve:
    name: str
    standardized_id: int
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int
    cryptography_curve: type[ec.EllipticCurve]

    @property
    def size(self) -> int:
        """Bytes of a field element (and of each coordinate in an encoded point)."""
        return (self.p.bit_length() + 7) // 8

    @property
    def order_size(self) -> int:
        return (self.n.bit_length() + 7) // 8

    def curve(self) -> ec.EllipticCurve:
        return self.cryptography_curve()


CURVES: tuple[Curve, ...] = (
    Curve(
        name="prime256v1",
        standardized_id=12,
        p=0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
        a=0xffffffff00000001000000000000000000000000fffffffffffffffffffffffc,
        b=0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
        gx=0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
        gy=0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
        n=0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
        h=1,
        cryptography_curve=ec.SECP256R1,
    ),
    Curve(
        name="brainpoolP256r1",
        standardized_id=13,
        p=0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377,
        a=0x7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9,
        b=0x26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6,
        gx=0x8bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262,
        gy=0x547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997,
        n=0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7,
        h=1,
        cryptography_curve=ec.BrainpoolP256R1,
    ),
    Curve(
        name="secp384r1",
        standardized_id=15,
        p=0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff,
        a=0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc,
        b=0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef,
        gx=0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7,
        gy=0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f,
        n=0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973,
        h=1,
        cryptography_curve=ec.SECP384R1,
    ),
    Curve(
        name="brainpoolP384r1",
        standardized_id=16,
        p=0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53,
        a=0x7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826,
        b=0x4a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c11,
        gx=0x1d1c64f068cf45ffa2a63a81b7c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8e826e03436d646aaef87b2e247d4af1e,
        gy=0x8abe1d7520f9c2a45cb1eb8e95cfd55262b70b29feec5864e19c054ff99129280e4646217791811142820341263c5315,
        n=0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565,
        h=1,
        cryptography_curve=ec.BrainpoolP384R1,
    ),
    Curve(
        name="brainpoolP512r1",
        standardized_id=17,
        p=0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3,
        a=0x7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca,
        b=0x3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723,
        gx=0x81aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098eff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f822,
        gy=0x7dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892,
        n=0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069,
        h=1,
        cryptography_curve=ec.BrainpoolP512R1,
    ),
    Curve(
        name="secp521r1",
        standardized_id=18,
        p=0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,
        a=0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc,
        b=0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00,
        gx=0xc6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66,
        gy=0x11839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650,
        n=0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409,
        h=1,
        cryptography_curve=ec.SECP521R1,
    ),
)

_BY_ID = {c.standardized_id: c for c in CURVES}
_BY_NAME = {c.name: c for c in CURVES}


def by_standardized_id(parameter_id: int) -> Curve:
    try:
        return _BY_ID[parameter_id]
    except KeyError:
        raise UnsupportedDomainParameters(f"standardized domain parameters {parameter_id} not supported") from None


def by_name(name: str) -> Curve:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedDomainParameters(f"curve {name!r} not supported") from None


def by_explicit(p: int, a: int, b: int, gx: int, gy: int, n: int) -> Curve:
    """The known curve with these explicit parameters (as CV certificates and SecurityInfos carry them)."""
    for curve in CURVES:
        if (curve.p, curve.a, curve.b, curve.gx, curve.gy, curve.n) == (p, a, b, gx, gy, n):
            return curve
    raise UnsupportedDomainParameters("explicit domain parameters match no supported curve")
