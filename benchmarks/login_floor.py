"""The floor under ``password_login.py``: the least a Flask login can do, served the same way.

GET /login answers a page with the form's hidden fields (as the broker's, so the same load client works);
POST /login parses the form, verifies the password with the broker's own ``PasswordHasher`` at the
configured parameters, and answers 303. No session, CSRF, throttle, database, log line or metrics: what is
left is gunicorn, Flask and the hash. ``password_login.py --floor`` serves this instead of the broker
(``gunicorn 'login_floor:create_app()'`` with ``EID_BROKER_BENCH_HASH`` set), to show how much of a
login's cost above the hash the framework takes before the broker does anything.
"""

from __future__ import annotations

import os

from flask import Flask, abort, redirect, request

from broker.config import load_settings
from broker.passwords import Argon2Parameters, PasswordHasher

PAGE = ('<form method="post" action="/login"><input name="csrf_token" type="hidden" value="floor">'
        '<input type="hidden" name="next" value="/account"><input name="username"><input name="password">'
        '</form>')


def create_app() -> Flask:
    settings = load_settings(os.environ["EID_BROKER_HOME"], environ={})
    hasher = PasswordHasher(Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_cost_kib,
                                             settings.argon2_parallelism))
    stored = os.environ["EID_BROKER_BENCH_HASH"]
    app = Flask(__name__)

    @app.get("/login")
    def page() -> str:
        return PAGE

    @app.post("/login")
    def login():
        if not hasher.verify(stored, request.form.get("password", "")):
            abort(400)
        return redirect(request.form.get("next", "/"), 303)

    return app
