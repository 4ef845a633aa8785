"""The eID-Server's conversation state in the broker's database: a :class:`eid.server.session.SessionStore`.

Every worker (and the eID listener) reads and writes the same rows, so any of them continues a session.
A row holds the session's JSON (``EidSession.to_json``) sealed with AES-256-GCM under a key kept in the
data directory (``eid-store.key``, mode 0600, made on first use): the JSON carries the PSK, the ephemeral
Chip Authentication key and the secure-messaging keys, which a copy of the database must not give away.
The session identifier is the associated data, so a sealed blob cannot be moved to another row. The
TC-token reference and the result reference are looked up by their SHA-256. Updates are compare-and-set on
``version``: of two requests carrying the same message only one is processed.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from broker.db import Database
from broker.models import EidServerSession
from eid.server.session import EidSession, StaleSession

KEY_FILE = "eid-store.key"
KEY_BYTES = 32
NONCE_BYTES = 12


class SealBroken(Exception):
    """A stored eID session could not be decrypted (another key, or the row was tampered with)."""


def store_key(data_dir: Path) -> bytes:
    """The sealing key in ``data_dir``, generated once (mode 0600)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(AESGCM.generate_key(bit_length=8 * KEY_BYTES))
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} must hold {KEY_BYTES} bytes")
    return key


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("ascii", "replace")).hexdigest()


class DatabaseSessionStore:
    """eID-Server sessions in the ``eid_server_session`` table, sealed with ``key``."""

    def __init__(self, database: Database, key: bytes) -> None:
        self.database = database
        self._aead = AESGCM(key)

    def _seal(self, session: EidSession) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, session.to_json().encode("utf-8"),
                                          session.session_identifier.encode("ascii"))

    def _open(self, row: EidServerSession) -> EidSession:
        try:
            plain = self._aead.decrypt(row.sealed[:NONCE_BYTES], row.sealed[NONCE_BYTES:],
                                       row.session_identifier.encode("ascii"))
        except InvalidTag:
            raise SealBroken(f"eID session {row.session_identifier[:8]}: the stored state does not decrypt") from None
        session = EidSession.from_json(plain.decode("utf-8"))
        if session.session_identifier != row.session_identifier or session.version != row.version:
            raise SealBroken(f"eID session {row.session_identifier[:8]}: the stored state belongs elsewhere")
        return session

    def add(self, session: EidSession) -> None:
        with self.database.session() as db:
            try:
                db.execute(insert(EidServerSession).values(
                    session_identifier=session.session_identifier,
                    token_reference_hash=_hash(session.token_reference),
                    reference_hash=_hash(session.reference),
                    version=session.version,
                    expires_at=session.expires_at,
                    sealed=self._seal(session),
                ))
                db.commit()
            except IntegrityError:
                raise ValueError("session identifier or reference already in use") from None

    def _find(self, condition) -> EidSession | None:
        with self.database.session() as db:
            row = db.scalar(select(EidServerSession).where(condition))
            return None if row is None else self._open(row)

    def get(self, session_identifier: str) -> EidSession | None:
        return self._find(EidServerSession.session_identifier == session_identifier)

    def find_by_token(self, token_reference: str) -> EidSession | None:
        return self._find(EidServerSession.token_reference_hash == _hash(token_reference))

    def find_by_reference(self, reference: str) -> EidSession | None:
        return self._find(EidServerSession.reference_hash == _hash(reference))

    def update(self, previous: EidSession, new: EidSession) -> None:
        if new.session_identifier != previous.session_identifier or new.version != previous.version + 1:
            raise ValueError("an update must keep the session identifier and raise the version by one")
        with self.database.session() as db:
            changed = db.execute(
                update(EidServerSession)
                .where(EidServerSession.session_identifier == previous.session_identifier,
                       EidServerSession.version == previous.version)
                .values(version=new.version, expires_at=new.expires_at, sealed=self._seal(new))
                .execution_options(synchronize_session=False)).rowcount
            db.commit()
        if not changed:
            raise StaleSession(f"session changed since version {previous.version}")

    def remove_expired(self, now: datetime.datetime) -> int:
        with self.database.session() as db:
            count = db.execute(delete(EidServerSession).where(EidServerSession.expires_at <= now)
                               .execution_options(synchronize_session=False)).rowcount
            db.commit()
        return count
