"""The one interface every card is reached through: virtual, behind pcscd, or remote behind PAOS."""

from __future__ import annotations

from typing import Protocol


class CardChannel(Protocol):
    def transmit(self, command: bytes) -> bytes:
        """Send one command APDU, return the response APDU (data followed by SW1 SW2)."""
        ...
