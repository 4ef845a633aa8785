"""Authentication methods. Each one proves something about the citizen and yields an
:class:`~broker.assurance.AuthenticationEvent`, which :func:`broker.sessions.record_authentication` adds to the
session (rotating its identifier). The password method is here; the eID method plugs in the same way:
subclass :class:`AuthenticationMethod`, set ``name``, ``level`` and ``amr``, and record ``event(now)`` once
the method's own protocol has succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from broker.assurance import AuthenticationEvent, Level


class AuthenticationMethod:
    """A method's name, the level it reaches and its RFC 8176 amr values."""

    name: ClassVar[str]
    level: ClassVar[Level]
    amr: ClassVar[tuple[str, ...]]

    def event(self, now: datetime) -> AuthenticationEvent:
        """The event of one successful authentication with this method at ``now``."""
        return AuthenticationEvent(method=self.name, level=self.level, amr=self.amr, at=now)
