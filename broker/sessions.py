"""Server-side browser sessions in the database.

The cookie holds a 256-bit random token; the database keeps only its SHA-256, so a copy of the database
does not give away live sessions. A session ends after ``session_idle_timeout`` without requests or
``session_absolute_timeout`` after its login. Every authentication (login, and every later raise of the
level) gives the session a new token. Cookies are HttpOnly, SameSite=Lax and, outside plain-HTTP
development, Secure with the ``__Host-`` prefix.

The session row is read on the request's database session (one connection per request); it is written in
a database session of its own, so a request that fails half-way commits nothing of its own through the
session machinery.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import JSON, Connection, bindparam, case, delete, insert, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from broker import throttle
from broker.assurance import AuthenticationEvent, Level, current_level
from broker.config import Settings
from broker.db import Prepared, UTCDateTime, connection_of
from broker.context import broker_of
from broker.context import commit as request_commit
from broker.context import connection as request_connection
from broker.models import USER_AGENT_MAX, AuthEventRecord, WebSession

TOKEN_BYTES = 32
SECURE_COOKIE = "__Host-eid-broker-session"
PLAIN_COOKIE = "eid-broker-session"
# last_seen_at is written at most this often, so a burst of requests does not write on each one.
TOUCH_INTERVAL = timedelta(seconds=60)
# Expired sessions and stale throttle counts are deleted at most this often per process (when a new session
# is stored).
PURGE_INTERVAL = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def cookie_name(settings: Settings) -> str:
    return PLAIN_COOKIE if settings.insecure_http else SECURE_COOKIE


@dataclass(frozen=True)
class Client:
    """Where a request came from, as shown in the citizen's session list and login history."""

    address: str
    user_agent: str

    @classmethod
    def of(cls, request: Request) -> Client:
        return cls(address=(request.remote_addr or "")[:64],
                   user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX])


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session's data (a dict) plus the row it lives in and the account it belongs to."""

    def __init__(self, data: dict[str, Any] | None = None, *, record_id: int | None = None,
                 account_id: int | None = None) -> None:
        def on_update(session: ServerSession) -> None:
            session.modified = True

        super().__init__(data or {}, on_update)
        self.record_id = record_id
        self.account_id = account_id
        self.new_token: str | None = None
        self.touch = False
        self.drop_cookie = False
        self.modified = False


def live_filter(now: datetime, settings: Settings) -> Any:
    return (WebSession.last_seen_at >= now - settings.session_idle_timeout) & (
        WebSession.created_at >= now - settings.session_absolute_timeout)


def purge_expired(db: Session, now: datetime, settings: Settings) -> None:
    db.execute(delete(WebSession).where(or_(
        WebSession.last_seen_at < now - settings.session_idle_timeout,
        WebSession.created_at < now - settings.session_absolute_timeout,
    )).execution_options(synchronize_session=False))


_FIND_SESSION = Prepared(select(WebSession.id, WebSession.account_id, WebSession.data, WebSession.created_at,
                                 WebSession.last_seen_at).where(WebSession.token_hash == bindparam("b_token_hash")))


class DatabaseSessionInterface(SessionInterface):
    def __init__(self) -> None:
        self._purged_at: datetime | None = None

    def _purge_now(self, now: datetime) -> bool:
        if self._purged_at is not None and now - self._purged_at < PURGE_INTERVAL:
            return False
        self._purged_at = now
        return True

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        services = broker_of(app)
        token = request.cookies.get(cookie_name(services.settings))
        if not token:
            return ServerSession()
        now = services.now()
        settings = services.settings
        # Read on the request's own database connection: one checkout per request, not two.
        connection = request_connection()
        row = _FIND_SESSION.first(connection, {"b_token_hash": token_hash(token)})
        if row is None or (now - row.last_seen_at > settings.session_idle_timeout
                           or now - row.created_at > settings.session_absolute_timeout):
            if row is not None:
                connection.execute(delete(WebSession).where(WebSession.id == row.id))
                request_commit()
            session = ServerSession()
            session.drop_cookie = True
            return session
        session = ServerSession(dict(row.data or {}), record_id=row.id, account_id=row.account_id)
        session.touch = now - row.last_seen_at >= TOUCH_INTERVAL
        return session

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:  # type: ignore[override]
        services = broker_of(app)
        settings = services.settings
        name = cookie_name(settings)
        response.vary.add("Cookie")
        now = services.now()
        if session.record_id is None:
            if not session:
                if session.drop_cookie:
                    response.delete_cookie(name, path="/", secure=not settings.insecure_http,
                                           httponly=True, samesite="Lax")
                return
            token = secrets.token_urlsafe(TOKEN_BYTES)
            client = Client.of(request)
            with services.database.session() as db:
                record = WebSession(token_hash=token_hash(token), account_id=None, data=dict(session),
                                    created_at=now, last_seen_at=now, client_address=client.address,
                                    user_agent=client.user_agent)
                db.add(record)
                if self._purge_now(now):
                    purge_expired(db, now, settings)
                    throttle.purge_stale(db, now)
                db.commit()
                session.record_id = record.id
            session.new_token = token
        else:
            values: dict[str, Any] = {}
            if session.modified:
                values["data"] = dict(session)
            if session.touch:
                values["last_seen_at"] = now
            if values:
                with services.database.session() as db:
                    db.execute(update(WebSession).where(WebSession.id == session.record_id).values(**values)
                               .execution_options(synchronize_session=False))
                    db.commit()
        if session.new_token is not None:
            response.set_cookie(name, session.new_token, path="/", secure=not settings.insecure_http,
                                httponly=True, samesite="Lax")


# The statements of every login, built once: constructing them per call costs more than running them.
_CLAIM_SESSION = Prepared(
    update(WebSession)
    .where(WebSession.id == bindparam("b_record"),
           or_(WebSession.account_id.is_(None), WebSession.account_id == bindparam("b_account")))
    .values(token_hash=bindparam("b_token_hash"), account_id=bindparam("b_account"),
            last_seen_at=bindparam("b_now", type_=UTCDateTime()),
            # the absolute timeout runs from the login: restart it when an anonymous session logs in
            created_at=case((WebSession.account_id.is_(None), bindparam("b_now", type_=UTCDateTime())),
                            else_=WebSession.created_at),
            client_address=bindparam("b_address"), user_agent=bindparam("b_agent"),
            data=bindparam("b_data", type_=JSON()))
)
_EVENT_COLUMNS = ("account_id", "session_id", "method", "level", "amr", "at", "client_address", "user_agent")
_ADD_EVENT = Prepared(insert(AuthEventRecord).inline(), _EVENT_COLUMNS)


def record_authentication(db: Session | Connection, session: ServerSession, account_id: int,
                          event: AuthenticationEvent, client: Client) -> int:
    """Add ``event`` to the session (in ``db``, an ORM session or a connection; the caller commits) and
    give the session a new token; return the session's row id.

    A session that belonged to another account is ended and a fresh one started; an anonymous session
    keeps its data (a parked request of a service, say) and becomes the account's.
    """
    now = event.at
    token = secrets.token_urlsafe(TOKEN_BYTES)
    connection = connection_of(db)
    record_id = session.record_id
    if record_id is not None:
        claimed = _CLAIM_SESSION.rowcount(connection, {
            "b_record": record_id, "b_account": account_id, "b_token_hash": token_hash(token), "b_now": now,
            "b_address": client.address, "b_agent": client.user_agent, "b_data": dict(session),
        })
        if not claimed:
            connection.execute(delete(WebSession).where(WebSession.id == record_id))
            session.clear()
            record_id = None
    if record_id is None:
        record_id = connection.execute(insert(WebSession).values(
            token_hash=token_hash(token), account_id=account_id, data=dict(session), created_at=now,
            last_seen_at=now, client_address=client.address, user_agent=client.user_agent,
        )).inserted_primary_key[0]
    _ADD_EVENT.rowcount(connection, {
        "account_id": account_id, "session_id": record_id, "method": event.method, "level": int(event.level),
        "amr": list(event.amr), "at": now, "client_address": client.address, "user_agent": client.user_agent,
    })
    session.record_id = record_id
    session.account_id = account_id
    session.new_token = token
    session.touch = False
    session.modified = False
    return record_id


def session_events(db: Session, session: ServerSession) -> list[AuthenticationEvent]:
    if session.record_id is None or session.account_id is None:
        return []
    records = db.scalars(select(AuthEventRecord).where(AuthEventRecord.session_id == session.record_id))
    return [record.event() for record in records]


def session_level(db: Session, session: ServerSession, now: datetime, settings: Settings) -> Level | None:
    return current_level(session_events(db, session), now, settings.level_max_age)


def end_session(db: Session, session: ServerSession) -> None:
    """Log out: delete the row (in ``db``; the caller commits) and forget the data and the cookie."""
    if session.record_id is not None:
        db.execute(delete(WebSession).where(WebSession.id == session.record_id)
                   .execution_options(synchronize_session=False))
    session.clear()
    session.record_id = None
    session.account_id = None
    session.new_token = None
    session.drop_cookie = True
    session.modified = False


def account_sessions(db: Session, account_id: int, now: datetime, settings: Settings) -> list[WebSession]:
    """The account's live sessions, most recently used first."""
    return list(db.scalars(select(WebSession)
                           .where(WebSession.account_id == account_id, live_filter(now, settings))
                           .order_by(WebSession.last_seen_at.desc())))
