"""The start page."""

from __future__ import annotations

from flask import Blueprint, render_template

from broker.context import broker
from broker.forms import ConfirmForm
from broker.views import current_account

bp = Blueprint("start", __name__)


@bp.route("/")
def index():
    return render_template("start.html", account=current_account(), eid_available=broker().eid is not None,
                           form=ConfirmForm())
