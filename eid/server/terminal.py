"""The terminal an eID-Server speaks as: its CV certificate chain, description and access rights.

What DIDAuthenticate(EAC1InputType) carries (TR-03112-7 §3.6.4.1): exactly one terminal (AT) certificate
with its DV certificate (and link certificates, if any), the certificate description whose hash the AT
certificate's id-description extension holds, and the CHATs of the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from eid.chat import Chat


@dataclass(frozen=True)
class TerminalConfig:
    certificates: tuple[bytes, ...]
    """CV certificates as sent in EAC1InputType: link and DV certificates, then the AT certificate."""
    certificate_description: bytes
    required_chat: Chat
    optional_chat: Chat | None = None
    transaction_info: str | None = None

    @property
    def requested_chat(self) -> Chat:
        """Everything the terminal asks for: required and optional rights together."""
        if self.optional_chat is None:
            return self.required_chat
        return Chat.from_mask(self.required_chat.terminal_type, self.required_chat.mask | self.optional_chat.mask)
