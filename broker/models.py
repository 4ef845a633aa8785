"""The broker's tables. All SQLAlchemy models of the project live here; migrations in broker/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from broker.assurance import AuthenticationEvent, Level
from broker.db import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USERNAME_MAX = 64
EMAIL_MAX = 254
USER_AGENT_MAX = 256


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(Base):
    """A citizen account. ``username`` is kept verbatim; ``username_key`` (NFKC, case-folded) is unique."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX))
    username_key: Mapped[str] = mapped_column(String(4 * USERNAME_MAX), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    sessions: Mapped[list[WebSession]] = relationship(back_populates="account", passive_deletes=True)
    events: Mapped[list[AuthEventRecord]] = relationship(back_populates="account", passive_deletes=True,
                                                         order_by="AuthEventRecord.at.desc()")


class WebSession(Base):
    """A server-side browser session. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")

    account: Mapped[Account | None] = relationship(back_populates="sessions")
    events: Mapped[list[AuthEventRecord]] = relationship(back_populates="session",
                                                         order_by="AuthEventRecord.at")


class AuthEventRecord(Base):
    """One successful authentication. Kept after its session ends: it is the account's login history."""

    __tablename__ = "auth_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("web_session.id", ondelete="SET NULL"),
                                                   index=True)
    method: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)
    amr: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")

    account: Mapped[Account] = relationship(back_populates="events")
    session: Mapped[WebSession | None] = relationship(back_populates="events")

    def event(self) -> AuthenticationEvent:
        return AuthenticationEvent(method=self.method, level=Level(self.level), amr=tuple(self.amr),
                                   at=self.at)


class EmailToken(Base):
    """A single-use link sent by mail (e-mail verification, password reset); only its hash is stored."""

    __tablename__ = "email_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginThrottle(Base):
    """Failed logins counted per key (a username, or one device cookie), shared by all workers."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(96))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EidServerSession(Base):
    """The eID-Server's state of one eID authentication (eid.server.session.EidSession), for any worker.

    ``sealed`` is the session's JSON encrypted with the broker's eID store key (AES-GCM; it holds the PSK,
    the ephemeral Chip Authentication key and the secure-messaging keys); the two references are stored
    as SHA-256 hashes. See broker/eid_store.py.
    """

    __tablename__ = "eid_server_session"

    session_identifier: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_reference_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reference_hash: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class EidLink(Base):
    """An account's ID card: the card's Restricted Identification pseudonym for the broker's sector.

    One card per account and one account per card. A renewed card has a new pseudonym; the citizen links
    it again (password and the new card). ``sector`` names the terminal sector the pseudonym belongs to
    (SHA-256 of the sector public key), so pseudonyms of another sector never match.
    """

    __tablename__ = "eid_link"
    __table_args__ = (UniqueConstraint("sector", "pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    sector: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(256))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountAttribute(Base):
    """A citizen attribute with its provenance (broker/attributes.py); one row per name and source."""

    __tablename__ = "account_attribute"
    __table_args__ = (UniqueConstraint("account_id", "name", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16))
    level: Mapped[int | None] = mapped_column(Integer)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
