import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from broker import throttle
from broker.accounts import (
    LinkInvalid, LinkProblem, Purpose, UsernameTaken, WrongPassword, change_password, consume_link,
    create_account, delete_account, find_by_username, issue_link, reset_password, username_key, verify_email,
)
from broker.models import Account, AuthEventRecord, EmailToken, LoginThrottle, WebSession
from broker.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy, PasswordRejected

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
PASSWORD = "Lange Rede, kurzer Sinn 42"
HASHER = PasswordHasher(Argon2Parameters())
POLICY = PasswordPolicy()


def new_account(session, username="Erika", email="erika@example.de", **kwargs):
    account = create_account(session, HASHER, POLICY, username=username, email=email, password=PASSWORD,
                             now=NOW, **kwargs)
    session.commit()
    return account


def web_session(session, account, token_hash):
    record = WebSession(token_hash=token_hash, account_id=account.id, data={}, created_at=NOW, last_seen_at=NOW)
    session.add(record)
    session.commit()
    return record


def test_username_is_kept_verbatim_and_compared_folded(database):
    with database.session() as session:
        account = new_account(session, username="Ǆemal O'Brien <b>")
        assert account.username == "Ǆemal O'Brien <b>"
        assert find_by_username(session, "ǆEMAL o'brien <B>").id == account.id
        assert find_by_username(session, "x" * 1000) is None
        with pytest.raises(UsernameTaken):
            new_account(session, username="ǅemal O'BRIEN <b>")
    assert username_key("Ｅｒｉｋａ") == username_key("erika")  # NFKC: full-width letters


def test_weak_password_creates_nothing(database):
    with database.session() as session:
        with pytest.raises(PasswordRejected):
            create_account(session, HASHER, POLICY, username="u1", email="u@example.de", password="password1",
                           now=NOW)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_same_username_registered_at_the_same_moment_gives_exactly_one_account(database):
    barrier = threading.Barrier(4)
    outcomes = []

    def register(index):
        with database.session() as session:
            barrier.wait()
            try:
                create_account(session, HASHER, POLICY, username="Zeitgleich", email=f"z{index}@example.de",
                               password=PASSWORD, now=NOW)
                session.commit()
                outcomes.append("created")
            except UsernameTaken:
                outcomes.append("taken")

    threads = [threading.Thread(target=register, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "taken", "taken", "taken"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_verification_link_is_single_use(database):
    with database.session() as session:
        account = new_account(session)
        token = issue_link(session, account, Purpose.VERIFY_EMAIL, timedelta(hours=24), NOW)
        session.commit()
        stored = session.scalar(select(EmailToken.token_hash))
        assert token not in stored and len(token) >= 43  # 256 bits, only the hash is kept
        assert verify_email(session, token, NOW + timedelta(hours=1)).email_verified_at == NOW + timedelta(hours=1)
        session.commit()
        with pytest.raises(LinkInvalid) as raised:
            verify_email(session, token, NOW + timedelta(hours=2))
        assert raised.value.problem is LinkProblem.USED


def test_links_expire_and_are_bound_to_their_purpose(database):
    with database.session() as session:
        account = new_account(session)
        token = issue_link(session, account, Purpose.VERIFY_EMAIL, timedelta(hours=24), NOW)
        session.commit()
        with pytest.raises(LinkInvalid) as wrong_purpose:
            consume_link(session, token, Purpose.RESET_PASSWORD, NOW)
        assert wrong_purpose.value.problem is LinkProblem.UNKNOWN
        with pytest.raises(LinkInvalid) as expired:
            verify_email(session, token, NOW + timedelta(hours=24))
        assert expired.value.problem is LinkProblem.EXPIRED
        with pytest.raises(LinkInvalid) as unknown:
            verify_email(session, "A" * 43, NOW)
        assert unknown.value.problem is LinkProblem.UNKNOWN


def test_link_is_consumed_once_under_concurrency(database):
    with database.session() as session:
        account = new_account(session)
        token = issue_link(session, account, Purpose.VERIFY_EMAIL, timedelta(hours=24), NOW)
        session.commit()
    barrier = threading.Barrier(3)
    outcomes = []

    def use():
        with database.session() as session:
            barrier.wait()
            try:
                verify_email(session, token, NOW)
                session.commit()
                outcomes.append("used")
            except LinkInvalid:
                outcomes.append("refused")

    threads = [threading.Thread(target=use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "used"]


def test_reset_sets_password_ends_sessions_and_clears_throttle(database):
    with database.session() as session:
        account = new_account(session)
        web_session(session, account, "a" * 64)
        throttle.record_failure(session, throttle.username_key(account.username_key), NOW)
        first = issue_link(session, account, Purpose.RESET_PASSWORD, timedelta(hours=1), NOW)
        second = issue_link(session, account, Purpose.RESET_PASSWORD, timedelta(hours=1), NOW)
        session.commit()
        reset_password(session, HASHER, POLICY, first, "ein ganz neues Passwort", NOW + timedelta(minutes=5))
        session.commit()
        assert HASHER.verify(account.password_hash, "ein ganz neues Passwort")
        assert account.email_verified_at is not None  # the mailbox owner opened the link
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
        assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
        with pytest.raises(LinkInvalid) as raised:  # the other outstanding link died with the old password
            reset_password(session, HASHER, POLICY, second, "noch ein anderes Passwort", NOW)
        assert raised.value.problem is LinkProblem.USED


def test_reset_with_weak_password_keeps_the_link(database):
    with database.session() as session:
        account = new_account(session)
        token = issue_link(session, account, Purpose.RESET_PASSWORD, timedelta(hours=1), NOW)
        session.commit()
        with pytest.raises(PasswordRejected):
            reset_password(session, HASHER, POLICY, token, "12345678", NOW)
        session.rollback()
        reset_password(session, HASHER, POLICY, token, "ein ganz neues Passwort", NOW)
        session.commit()


def test_change_password_needs_the_current_one_and_keeps_only_this_session(database):
    with database.session() as session:
        account = new_account(session)
        keep = web_session(session, account, "a" * 64)
        web_session(session, account, "b" * 64)
        with pytest.raises(WrongPassword):
            change_password(session, HASHER, POLICY, account, "falsch", "ein ganz neues Passwort", NOW, keep.id)
        change_password(session, HASHER, POLICY, account, PASSWORD, "ein ganz neues Passwort", NOW, keep.id)
        session.commit()
        assert session.scalars(select(WebSession.id)).all() == [keep.id]


def test_delete_account_removes_everything_of_it(database):
    with database.session() as session:
        account = new_account(session)
        other = new_account(session, username="Max", email="max@example.de")
        record = web_session(session, account, "a" * 64)
        session.add(AuthEventRecord(account_id=account.id, session_id=record.id, method="password", level=1,
                                    amr=["pwd"], at=NOW))
        issue_link(session, account, Purpose.RESET_PASSWORD, timedelta(hours=1), NOW)
        session.commit()
        with pytest.raises(WrongPassword):
            delete_account(session, HASHER, account, "falsch")
        delete_account(session, HASHER, account, PASSWORD)
        session.commit()
        assert session.scalars(select(Account.id)).all() == [other.id]
        for model in (WebSession, AuthEventRecord, EmailToken):
            assert session.scalar(select(func.count()).select_from(model)) == 0
