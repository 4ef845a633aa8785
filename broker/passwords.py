"""Password hashing (argon2id through argon2-cffi) and the policy for new passwords.

Policy after NIST SP 800-63B §5.1.1.2 and OWASP's password storage cheat sheet: a length range only (no
composition rules), passwords are NFKC-normalized before hashing, and a new password must not be one of
the 20,000 most common ones (``data/common-passwords.txt.gz``) nor the account's own username or e-mail.
"""

from __future__ import annotations

import enum
import gzip
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Rejection(enum.StrEnum):
    TOO_SHORT = "too-short"
    TOO_LONG = "too-long"
    COMMON = "common"
    SAME_AS_ACCOUNT = "same-as-account"
    CONTROL_CHARACTERS = "control-characters"


class PasswordRejected(Exception):
    """A new password the policy refuses; ``reason`` says why (the password itself is never kept)."""

    def __init__(self, reason: Rejection) -> None:
        super().__init__(f"password rejected: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128

    def check(self, password: str, account_words: tuple[str, ...] = ()) -> None:
        """Raise :class:`PasswordRejected` unless ``password`` may be set as a new password."""
        normalized = normalize(password)
        if any(unicodedata.category(char) == "Cc" for char in normalized):
            raise PasswordRejected(Rejection.CONTROL_CHARACTERS)
        if len(normalized) < self.min_length:
            raise PasswordRejected(Rejection.TOO_SHORT)
        if len(normalized) > self.max_length:
            raise PasswordRejected(Rejection.TOO_LONG)
        folded = normalized.casefold()
        if folded.strip() in common_passwords():
            raise PasswordRejected(Rejection.COMMON)
        if any(word and folded == normalize(word).casefold() for word in account_words):
            raise PasswordRejected(Rejection.SAME_AS_ACCOUNT)


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("broker").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines())


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int = 2
    memory_cost_kib: int = 19 * 1024
    parallelism: int = 1


class PasswordHasher:
    """argon2id with the configured parameters; tells when a stored hash should be redone."""

    def __init__(self, parameters: Argon2Parameters) -> None:
        self.parameters = parameters
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            type=argon2.Type.ID,
        )
        self._dummy_hash = self._hasher.hash("not a password of anyone")
        # What every hash made now looks like: "$argon2id$v=19$m=19456,t=2,p=1$<salt>" "$" "<digest>".
        head, _, digest = self._dummy_hash.rpartition("$")
        self._current_parameters = head[:head.rindex("$") + 1]
        self._current_shape = (len(head), len(digest))

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalize(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, normalize(password))
        except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
            return False

    def burn(self, password: str) -> None:
        """Spend the time of a verification without an account, so timing tells no usernames apart."""
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters (or salt or digest lengths) than ours.

        A hash with our parameter string and our salt and digest lengths is current, without argon2-cffi
        parsing it (every login asks: about 50 µs of one once its argon2 run has emptied the caches)."""
        head, _, digest = stored_hash.rpartition("$")
        if head.startswith(self._current_parameters) and (len(head), len(digest)) == self._current_shape:
            return False
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
