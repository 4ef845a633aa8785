"""Languages: German first, English. ``?lang=de|en`` switches and is remembered in a cookie; otherwise the
browser's Accept-Language decides; German when it names neither."""

from __future__ import annotations

from flask import Flask, Response, g, request, url_for
from flask_babel import Babel, format_datetime
from flask_babel import lazy_gettext as _l

from broker.assurance import Level

LANGUAGES = ("de", "en")
DEFAULT = "de"
COOKIE = "eid-broker-lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def _asked() -> str | None:
    """The language this request switches to with ``?lang=``, if any."""
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else None


def _choose() -> str:
    asked = _asked()
    if asked is not None:
        return asked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    # By the primary subtag, in the browser's order of preference: "en-GB, de;q=0.5" is English.
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT


def current_language() -> str:
    """Chosen when first needed (a redirect needs none)."""
    if "lang" not in g:
        g.lang = _choose()
    return g.lang


def remember(response: Response) -> Response:
    """Keep a ``?lang=`` switch in a cookie; responses vary with the browser's language."""
    switched = _asked()
    if switched is not None:
        response.set_cookie(COOKIE, switched, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="Lax",
                            secure=request.is_secure)
    response.vary.add("Accept-Language")
    return response


LEVEL_NAMES = {Level.LOW: _l("low"), Level.SUBSTANTIAL: _l("substantial"), Level.HIGH: _l("high")}
METHOD_NAMES = {"password": _l("Password"), "eid": _l("ID card (online function)")}


def level_name(level: Level | None) -> str:
    return str(LEVEL_NAMES[level]) if level is not None else str(_l("none"))


def method_name(method: str) -> str:
    return str(METHOD_NAMES.get(method, method))


def language_url(language: str) -> str:
    """This page in ``language`` (keeping its other query parameters)."""
    if request.endpoint is None or request.endpoint == "static":
        return f"?lang={language}"
    arguments = {**request.args.to_dict(), "lang": language}
    return url_for(request.endpoint, **(request.view_args or {}), **arguments)


def init_app(app: Flask) -> None:
    """Babel and the templates' helpers; the application calls ``remember`` on every response."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Berlin"
    Babel(app, locale_selector=current_language)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(languages=LANGUAGES, language_url=language_url, level_name=level_name,
                                 method_name=method_name, format_datetime=format_datetime)
