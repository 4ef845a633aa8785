"""The eID-Server's document blocklist (Sperrliste): revoked ID cards of this terminal's sector, revoked Document
Signers.

A German ID card reported lost or stolen is put on the eID revocation list (TR-03127 §5.3.1). A service
provider never learns a card number: its Document Verifier hands it a *sector-specific* list — for each revoked
card the identifier the card computes for the provider's terminal sector with Restricted Identification
(TR-03127 §4.4.2, §5.3.1.2) — and the eID-Server checks the identifier of the card at hand against it
(TR-03110-2 §3.6 step 3, TR-03130-1 §2.4.6 step 4). That identifier comes from the card's Restricted
Identification key that needs no authorization (``authorizedOnly`` FALSE, the revocation key), so the server
computes it whenever the list has entries, whatever the service asked for (:mod:`eid.server.card_requests`).
The pseudonym — Restricted Identification with the key for authorized terminals — is a sector-specific
identifier of the same card as well; listing it revokes the card too (a card the broker knows only by the
pseudonym it linked). Document Signer certificates are revoked by serial number (TR-03130-1 §2.4.2; e.g. from
the CSCA's revocation list).

A revoked card ends the authentication with :data:`~eid.server.result.Failure.CARD_REVOKED`: no data, no level.

The list is a text file (UTF-8), one entry per line; ``#`` starts a comment:

    # sector-specific identifiers of revoked cards (hex, as Restricted Identification returns them)
    5b0c0a84c1d0d1e0b61d2f5f9e1e3c2a7d4b1b5a3a2c1e0f9d8c7b6a5a4b3c2d1
    # serial numbers of revoked Document Signer certificates (hex)
    ds:0a1b2c3d

(The Document Verifier's own format — a signed CMS container, TR-03129 Appendix B — is converted to this by
whoever fetches it.) :class:`BlocklistFile` reads the file again when it changes, so an updated list counts
from the next authentication on without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from eid.errors import MalformedData
from eid.passive_authentication import PassiveAuthenticationResult

log = logging.getLogger(__name__)

DOCUMENT_SIGNER_PREFIX = "ds:"


class BlocklistError(MalformedData):
    """The blocklist file has an entry that is neither a hex identifier nor ``ds:`` with a hex serial number."""


@dataclass(frozen=True)
class DocumentBlocklist:
    sector_identifiers: frozenset[bytes] = frozenset()
    document_signers: frozenset[int] = frozenset()
    """Serial numbers of revoked Document Signer certificates."""

    def current(self) -> DocumentBlocklist:
        return self

    def document_signer_revoked(self, verified: PassiveAuthenticationResult) -> str | None:
        """The hook of :func:`eid.passive_authentication.verify`: a reason if EF.CardSecurity's signer is revoked."""
        serial = verified.document_signer.serial_number
        if serial in self.document_signers:
            return f"the Document Signer certificate {serial:x} ({verified.document_signer.subject.rfc4514_string()}) " \
                   "is revoked"
        return None

    def card_revoked(self, *identifiers: bytes | None) -> bool:
        """Whether one of the card's sector-specific identifiers is listed."""
        return any(identifier in self.sector_identifiers for identifier in identifiers if identifier is not None)

    @classmethod
    def parse(cls, text: str) -> DocumentBlocklist:
        identifiers: set[bytes] = set()
        signers: set[int] = set()
        for number, line in enumerate(text.splitlines(), 1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            try:
                if entry.lower().startswith(DOCUMENT_SIGNER_PREFIX):
                    signers.add(int(entry[len(DOCUMENT_SIGNER_PREFIX):].strip(), 16))
                else:
                    identifier = bytes.fromhex(entry)
                    if len(identifier) < 16:
                        raise ValueError("too short")
                    identifiers.add(identifier)
            except ValueError:
                raise BlocklistError(f"line {number}: {entry[:40]!r} is neither a sector-specific identifier (at least "
                                     "32 hex digits) nor ds:<hex serial number of a Document Signer>") from None
        return cls(frozenset(identifiers), frozenset(signers))


class BlocklistFile:
    """A blocklist file, read again when its modification time or size changes. A file that turns unreadable or
    malformed later is logged and the last good list stays in force; at start it is an error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._list = self._read()

    def _stat(self) -> tuple[int, int]:
        status = os.stat(self.path)
        return status.st_mtime_ns, status.st_size

    def _read(self) -> DocumentBlocklist:
        try:
            return DocumentBlocklist.parse(self.path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise BlocklistError(f"{self.path} is not UTF-8 text") from None
        except BlocklistError as error:
            raise BlocklistError(f"{self.path}: {error}") from None

    def current(self) -> DocumentBlocklist:
        with self._lock:
            try:
                stamp = self._stat()
                if stamp != self._stamp:
                    self._stamp = stamp  # a bad version is reported once, not at every authentication
                    self._list = self._read()
                    log.info("blocklist %s read again: %d card identifiers, %d Document Signers", self.path,
                             len(self._list.sector_identifiers), len(self._list.document_signers))
            except (OSError, BlocklistError) as error:
                log.error("blocklist %s could not be read again, the previous list stays in force: %s", self.path,
                          error)
            return self._list


BlocklistSource = DocumentBlocklist | BlocklistFile
"""What an :class:`~eid.server.terminal.EidTerminal` holds: a fixed list, or a file read again when it changes."""
