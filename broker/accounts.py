"""Citizen accounts: registration, e-mail links, password changes and resets, deletion.

Plain functions on a database session; the caller commits (so a failure leaves nothing half-written).
Time is always a parameter.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broker import throttle
from broker.models import USERNAME_MAX, Account, EmailToken, WebSession
from broker.passwords import PasswordHasher, PasswordPolicy

LINK_TOKEN_BYTES = 32


class Purpose(enum.StrEnum):
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"


class UsernameTaken(Exception):
    """Another account already has this username (compared after NFKC and case folding)."""


class WrongPassword(Exception):
    """The current password given to confirm a change was wrong."""


class LinkProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class LinkInvalid(Exception):
    """A mailed link that cannot be used (any more)."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(f"link {problem}")
        self.problem = problem


def username_key(username: str) -> str:
    """The form usernames are compared in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", username).casefold()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_username(db: Session, username: str) -> Account | None:
    key = username_key(username)
    if len(key) > 4 * USERNAME_MAX:
        return None
    return db.scalar(select(Account).where(Account.username_key == key))


def create_account(db: Session, hasher: PasswordHasher, policy: PasswordPolicy, *, username: str,
                   email: str, password: str, now: datetime, email_verified: bool = False) -> Account:
    """A new account. Raises PasswordRejected or UsernameTaken (also when a concurrent request wins;
    then the transaction is rolled back, so this must be its first write)."""
    policy.check(password, account_words=(username, email))
    key = username_key(username)
    if db.scalar(select(Account.id).where(Account.username_key == key)) is not None:
        raise UsernameTaken(username)
    account = Account(
        username=username,
        username_key=key,
        email=email,
        email_verified_at=now if email_verified else None,
        password_hash=hasher.hash(password),
        password_changed_at=now,
        created_at=now,
    )
    db.add(account)
    try:
        db.flush()
    except IntegrityError:
        # A concurrent registration of the same name committed first; nothing of ours is kept.
        db.rollback()
        raise UsernameTaken(username) from None
    return account


def issue_link(db: Session, account: Account, purpose: Purpose, ttl: timedelta, now: datetime) -> str:
    """A new single-use link token for ``account``; only its hash is stored."""
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    db.add(EmailToken(token_hash=token_hash(token), purpose=purpose.value, account_id=account.id,
                      email=account.email, created_at=now, expires_at=now + ttl))
    db.flush()
    return token


def peek_link(db: Session, token: str, purpose: Purpose, now: datetime) -> EmailToken:
    """The link's record if it could be used now (for showing its confirmation page); LinkInvalid if not."""
    record = db.scalar(select(EmailToken).where(EmailToken.token_hash == token_hash(token),
                                                EmailToken.purpose == purpose.value))
    if record is None:
        raise LinkInvalid(LinkProblem.UNKNOWN)
    if record.used_at is not None:
        raise LinkInvalid(LinkProblem.USED)
    if record.expires_at <= now:
        raise LinkInvalid(LinkProblem.EXPIRED)
    return record


def consume_link(db: Session, token: str, purpose: Purpose, now: datetime) -> Account:
    """Mark the link used (exactly once, even under concurrent requests) and return its account."""
    record = peek_link(db, token, purpose, now)
    claimed = db.execute(
        update(EmailToken)
        .where(EmailToken.id == record.id, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise LinkInvalid(LinkProblem.USED)
    account = db.get(Account, record.account_id)
    if account is None:
        raise LinkInvalid(LinkProblem.UNKNOWN)
    if record.email != account.email:
        # The address changed after the link was sent: it proves nothing about the new one.
        raise LinkInvalid(LinkProblem.EXPIRED)
    return account


def verify_email(db: Session, token: str, now: datetime) -> Account:
    account = consume_link(db, token, Purpose.VERIFY_EMAIL, now)
    if account.email_verified_at is None:
        account.email_verified_at = now
    return account


def end_sessions(db: Session, account_id: int, keep_session_id: int | None = None) -> int:
    """End the account's sessions (all, or all but one); return how many ended."""
    statement = delete(WebSession).where(WebSession.account_id == account_id)
    if keep_session_id is not None:
        statement = statement.where(WebSession.id != keep_session_id)
    return db.execute(statement.execution_options(synchronize_session=False)).rowcount


def _set_password(db: Session, hasher: PasswordHasher, account: Account, password: str,
                  now: datetime) -> None:
    account.password_hash = hasher.hash(password)
    account.password_changed_at = now
    # Other outstanding reset links die with the old password.
    db.execute(update(EmailToken)
               .where(EmailToken.account_id == account.id, EmailToken.purpose == Purpose.RESET_PASSWORD.value,
                      EmailToken.used_at.is_(None))
               .values(used_at=now).execution_options(synchronize_session=False))


def reset_password(db: Session, hasher: PasswordHasher, policy: PasswordPolicy, token: str,
                   new_password: str, now: datetime) -> Account:
    """Set a new password through a reset link: ends every session, proves the address, clears the
    username's login throttle."""
    record = peek_link(db, token, Purpose.RESET_PASSWORD, now)
    account = db.get(Account, record.account_id)
    if account is None:
        raise LinkInvalid(LinkProblem.UNKNOWN)
    policy.check(new_password, account_words=(account.username, account.email))
    account = consume_link(db, token, Purpose.RESET_PASSWORD, now)
    _set_password(db, hasher, account, new_password, now)
    if account.email_verified_at is None:
        account.email_verified_at = now
    end_sessions(db, account.id)
    throttle.clear(db, throttle.username_key(account.username_key))
    return account


def change_password(db: Session, hasher: PasswordHasher, policy: PasswordPolicy, account: Account,
                    current_password: str, new_password: str, now: datetime,
                    keep_session_id: int | None) -> None:
    """Change the password after checking the current one; ends the account's other sessions."""
    if not hasher.verify(account.password_hash, current_password):
        raise WrongPassword()
    policy.check(new_password, account_words=(account.username, account.email))
    _set_password(db, hasher, account, new_password, now)
    end_sessions(db, account.id, keep_session_id=keep_session_id)


def delete_account(db: Session, hasher: PasswordHasher, account: Account, current_password: str) -> None:
    """Delete the account with its sessions, history and links (after checking the password)."""
    if not hasher.verify(account.password_hash, current_password):
        raise WrongPassword()
    throttle.clear(db, throttle.username_key(account.username_key))
    db.execute(delete(Account).where(Account.id == account.id).execution_options(synchronize_session=False))
    db.expunge(account)
