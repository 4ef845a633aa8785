import argon2
import pytest
from argon2 import extract_parameters

from broker.passwords import (
    Argon2Parameters, PasswordHasher, PasswordPolicy, PasswordRejected, Rejection, common_passwords,
)

POLICY = PasswordPolicy(min_length=8, max_length=128)


@pytest.fixture(scope="module")
def hasher():
    return PasswordHasher(Argon2Parameters())


def rejection(password, words=()):
    with pytest.raises(PasswordRejected) as raised:
        POLICY.check(password, words)
    return raised.value.reason


def test_length_limits_count_characters_not_bytes():
    assert rejection("kurz") is Rejection.TOO_SHORT
    POLICY.check("äöüßäöüx")  # 8 characters, 15 bytes
    POLICY.check("w" * 64 + "ort" * 21)
    assert rejection("x" * 129) is Rejection.TOO_LONG


def test_no_composition_rules():
    POLICY.check("alllowercaselettersonly")
    POLICY.check("ein langer satz mit leerzeichen")


@pytest.mark.parametrize("password", ["password", "PASSWORD1", "12345678", "qwertyuiop", "passwort"])
def test_common_passwords_are_refused(password):
    assert rejection(password) is Rejection.COMMON


def test_blocklist_is_shipped():
    assert len(common_passwords()) > 19000
    assert "iloveyou" in common_passwords()


def test_own_username_or_email_is_refused():
    assert rejection("Erika.Mustermann", ("erika.mustermann", "e@example.de")) is Rejection.SAME_AS_ACCOUNT
    assert rejection("e@example.de", ("someone", "E@EXAMPLE.DE")) is Rejection.SAME_AS_ACCOUNT


def test_control_characters_are_refused():
    assert rejection("abc\x00defghij") is Rejection.CONTROL_CHARACTERS


def test_hash_is_argon2id_with_owasp_parameters(hasher):
    stored = hasher.hash("correct horse battery staple")
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (19 * 1024, 2, 1)
    assert hasher.verify(stored, "correct horse battery staple")
    assert not hasher.verify(stored, "correct horse battery stapl")
    assert not hasher.verify("not a hash", "anything")


def test_unicode_is_normalized_before_hashing(hasher):
    composed, decomposed = "Passwört-über-alles", "Passwo\u0308rt-u\u0308ber-alles"
    assert hasher.verify(hasher.hash(composed), decomposed)


def test_rehash_when_parameters_change(hasher):
    stored = hasher.hash("correct horse battery staple")
    assert not hasher.needs_rehash(stored)
    stronger = PasswordHasher(Argon2Parameters(time_cost=3))
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, "correct horse battery staple")
    assert hasher.needs_rehash("garbage")


@pytest.mark.parametrize("other", [
    Argon2Parameters(time_cost=3),
    Argon2Parameters(memory_cost_kib=19 * 1024 + 1024),
    Argon2Parameters(parallelism=2),
])
def test_hashes_of_other_parameters_are_redone(hasher, other):
    assert PasswordHasher(other).needs_rehash(hasher.hash("correct horse battery staple"))
    assert hasher.needs_rehash(PasswordHasher(other).hash("correct horse battery staple"))


@pytest.mark.parametrize("salt_len,hash_len", [(17, 31), (15, 33), (16, 64), (32, 32)])
def test_hashes_with_other_salt_or_digest_lengths_are_redone(hasher, salt_len, hash_len):
    """Also where the encoded length comes out the same as ours (17 + 31 bytes against 16 + 32)."""
    other = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, salt_len=salt_len,
                                  hash_len=hash_len, type=argon2.Type.ID)
    stored = other.hash("correct horse battery staple")
    assert hasher.needs_rehash(stored) == other.check_needs_rehash(hasher.hash("x" * 12))
    assert hasher.needs_rehash(stored)
