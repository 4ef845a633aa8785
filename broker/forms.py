"""The web forms (Flask-WTF: every form carries a CSRF token). Messages are translated lazily."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from broker.models import EMAIL_MAX, USERNAME_MAX

USERNAME_MIN = 3
# Long enough for any policy's maximum; the policy itself answers with its own message.
PASSWORD_FIELD_MAX = 1024
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def no_control_characters(_form: FlaskForm, field: Field) -> None:
    if isinstance(field.data, str) and any(unicodedata.category(char) in ("Cc", "Cs") for char in field.data):
        raise ValidationError(_l("This field contains control characters."))


def email_address(_form: FlaskForm, field: Field) -> None:
    if field.data and not EMAIL_PATTERN.match(field.data):
        raise ValidationError(_l("Please enter an e-mail address such as name@example.de."))


def _username() -> StringField:
    return StringField(
        _l("Username"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please enter a username.")),
            Length(min=USERNAME_MIN, max=USERNAME_MAX,
                   message=_l("The username must be %(min)d to %(max)d characters long.",
                              min=USERNAME_MIN, max=USERNAME_MAX)),
            no_control_characters,
        ],
    )


def _new_password(label: Any) -> PasswordField:
    return PasswordField(label, validators=[
        InputRequired(_l("Please enter a password.")),
        Length(max=PASSWORD_FIELD_MAX, message=_l("The password is too long.")),
    ])


def _repeat_password() -> PasswordField:
    return PasswordField(_l("Repeat the password"), validators=[
        InputRequired(_l("Please repeat the password.")),
        EqualTo("password", message=_l("The two passwords differ.")),
    ])


def _current_password() -> PasswordField:
    return PasswordField(_l("Current password"), validators=[
        InputRequired(_l("Please enter your current password.")),
        Length(max=PASSWORD_FIELD_MAX, message=_l("The password is too long.")),
    ])


class RegistrationForm(FlaskForm):
    username = _username()
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Please enter your e-mail address.")),
        Length(max=EMAIL_MAX, message=_l("The e-mail address is too long.")),
        no_control_characters,
        email_address,
    ])
    password = _new_password(_l("Password"))
    password_repeat = _repeat_password()


class EidRegistrationForm(RegistrationForm):
    """An account created from the eID (the data read from the card are shown beside it)."""

    consent = BooleanField(_l("Store the data read from my ID card in my account."),
                           validators=[DataRequired(_l("Please agree that the data from your ID card are stored."))])


class PasswordConfirmForm(FlaskForm):
    """Confirming something with the current password (linking a new ID card)."""

    current_password = _current_password()


class LoginForm(FlaskForm):
    """No CSRF field of its own: CSRFProtect checks the token of every POST before any view runs, and the
    field would sign a fresh token on every login, which a successful one (a redirect) never shows. The
    page renders ``csrf_token()`` itself."""

    class Meta:
        csrf = False

    username = StringField(_l("Username"), filters=[_strip], validators=[
        DataRequired(_l("Please enter your username.")),
        Length(max=USERNAME_MAX, message=_l("The username must be %(min)d to %(max)d characters long.",
                                            min=USERNAME_MIN, max=USERNAME_MAX)),
        no_control_characters,
    ])
    password = PasswordField(_l("Password"), validators=[
        InputRequired(_l("Please enter your password.")),
        Length(max=PASSWORD_FIELD_MAX, message=_l("The password is too long.")),
    ])


class ResetRequestForm(FlaskForm):
    username = _username()


class NewPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    password_repeat = _repeat_password()


class ChangePasswordForm(FlaskForm):
    current_password = _current_password()
    password = _new_password(_l("New password"))
    password_repeat = _repeat_password()


class DeleteAccountForm(FlaskForm):
    current_password = _current_password()
    confirm = BooleanField(_l("Yes, delete my account and everything stored with it."),
                           validators=[DataRequired(_l("Please confirm that the account shall be deleted."))])


class ConfirmForm(FlaskForm):
    """A button only: logout, confirming a mailed link, ending sessions, resending a mail."""
