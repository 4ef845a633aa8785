"""The demo mailbox: the mails the demo's own SMTP server received (registered only in demo mode)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, render_template

from broker.context import broker

bp = Blueprint("mailbox", __name__, url_prefix="/demo")
SHOWN = 20


@dataclass(frozen=True)
class ReceivedMail:
    to: str
    subject: str
    date: str
    body: str


def read_mail(path: Path) -> ReceivedMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return ReceivedMail(to=str(message.get("To", "")), subject=str(message.get("Subject", "")),
                        date=str(message.get("Date", "")), body=body.get_content() if body else "")


@bp.route("/mailbox")
def mailbox():
    directory = Path(broker().settings.demo_mailbox_dir)
    paths = sorted(directory.glob("*.eml"), reverse=True)[:SHOWN] if directory.is_dir() else []
    return render_template("mailbox.html", mails=[read_mail(path) for path in paths])
