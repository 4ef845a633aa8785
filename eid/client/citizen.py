"""How the eID client asks the citizen: at the terminal, or from prepared answers (``--pin-stdin``, tests).

:class:`TerminalCitizen` prints the provider and the requested data, asks for each optional right and for
the PIN (hidden input). :class:`PreparedCitizen` answers from values given beforehand — the PINs/CANs in
the order they will be asked for, and the optional rights to deselect — and cancels when it runs out.
Neither ever prints or logs a password.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from eid.chat import AccessRight
from eid.client.consent import Consent, PasswordPrompt, right_name
from eid.pace import PasswordType


@dataclass
class PreparedCitizen:
    passwords: Iterator[str] = field(repr=False)
    deselect: frozenset[AccessRight] = frozenset()
    cancel: bool = False
    consents: list[Consent] = field(default_factory=list)
    prompts: list[PasswordPrompt] = field(default_factory=list)

    @classmethod
    def with_passwords(cls, passwords: Iterable[str], deselect: Iterable[AccessRight] = (),
                       cancel: bool = False) -> PreparedCitizen:
        return cls(iter(list(passwords)), frozenset(deselect), cancel)

    def consent(self, consent: Consent) -> frozenset[AccessRight] | None:
        self.consents.append(consent)
        return None if self.cancel else consent.optional - self.deselect

    def password(self, prompt: PasswordPrompt) -> str | None:
        self.prompts.append(prompt)
        return next(self.passwords, None)


@dataclass
class TerminalCitizen:
    """Asks on the controlling terminal. ``write`` shows a line, ``ask`` reads one (visible input)."""

    write: Callable[[str], None] = print
    ask: Callable[[str], str] = input
    secret: Callable[[str], str] = getpass.getpass

    def consent(self, consent: Consent) -> frozenset[AccessRight] | None:
        self.write("")
        for line in consent.describe():
            self.write(line)
        kept = set()
        for right in sorted(consent.optional):
            if self.ask(f"Release {right_name(right)}? [Y/n] ").strip().lower() in ("", "y", "yes", "j", "ja"):
                kept.add(right)
        if self.ask("Continue with the PIN? [Y/n] ").strip().lower() not in ("", "y", "yes", "j", "ja"):
            return None
        return frozenset(kept)

    def password(self, prompt: PasswordPrompt) -> str | None:
        if prompt.reason:
            self.write(prompt.reason + (f" ({prompt.tries_left} tries left)" if prompt.tries_left else ""))
        name = "PIN" if prompt.kind is PasswordType.PIN else "card access number (CAN)"
        value = self.secret(f"{name} (empty to cancel): ").strip()
        return value or None
