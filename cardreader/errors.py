"""Card reader failures, each worded so that a citizen at a desk with a reader knows what to do.

Every error carries the PC/SC return code when there is one (``code``), for logs and bug reports; the
message itself never contains a PIN, CAN or PUK.
"""

from __future__ import annotations


class ReaderError(Exception):
    """A card reader or the PC/SC service failed. ``str(error)`` is meant for the citizen."""

    code: int | None = None

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


class PcscdNotRunning(ReaderError):
    """The PC/SC service (pcscd) does not answer."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__(
            "The smart-card service (pcscd) is not running, so no card reader can be used. "
            "Start it with 'sudo systemctl start pcscd.socket' (or run 'sudo pcscd') and try again.",
            code,
        )


class NoReader(ReaderError):
    """No card reader is connected at all."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__("No card reader was found. Connect your card reader and try again.", code)


class ReaderNotFound(NoReader):
    """A reader was asked for by name, and no connected reader has that name."""

    def __init__(self, name: str, available: list[str], code: int | None = None) -> None:
        self.name = name
        self.available = list(available)
        listing = ", ".join(repr(reader) for reader in available) or "none"
        ReaderError.__init__(
            self, f"There is no card reader named {name!r}. Connected card readers: {listing}.", code
        )


class NoCard(ReaderError):
    """The reader is there, but no card lies on it."""

    def __init__(self, reader: str, code: int | None = None) -> None:
        self.reader = reader
        super().__init__(f"There is no card on the card reader {reader!r}. Put your ID card on the reader.", code)


class CardRemoved(ReaderError):
    """The card left the reader while it was in use."""

    def __init__(self, reader: str, code: int | None = None) -> None:
        self.reader = reader
        super().__init__(
            f"The card was removed from the card reader {reader!r} while it was being used. "
            "Put it back on the reader, leave it there until the process has finished, and try again.",
            code,
        )


class ReaderUnplugged(ReaderError):
    """The reader itself disappeared (USB cable pulled, driver gone)."""

    def __init__(self, reader: str, code: int | None = None) -> None:
        self.reader = reader
        super().__init__(
            f"The card reader {reader!r} was disconnected. Connect it again and try again.", code
        )


class ReaderBusy(ReaderError):
    """Another program holds the reader exclusively or in a long transaction."""

    def __init__(self, reader: str, code: int | None = None) -> None:
        self.reader = reader
        super().__init__(
            f"The card reader {reader!r} is being used by another program (for example AusweisApp). "
            "Close that program and try again.",
            code,
        )


class CardUnresponsive(ReaderError):
    """The card (or the reader) gave no answer in time."""

    def __init__(self, reader: str, seconds: float, code: int | None = None) -> None:
        self.reader = reader
        self.seconds = seconds
        super().__init__(
            f"The card on the card reader {reader!r} did not answer within {seconds:g} seconds. "
            "Take the card off the reader, put it back and try again.",
            code,
        )


class CardCommunicationError(ReaderError):
    """The card is still there but a command could not be exchanged with it."""

    def __init__(self, reader: str, detail: str, code: int | None = None) -> None:
        self.reader = reader
        super().__init__(
            f"Communication with the card on the card reader {reader!r} failed ({detail}). "
            "Take the card off the reader, put it back and try again.",
            code,
        )


class FeatureNotSupported(ReaderError):
    """The reader lacks a PC/SC part 10 feature (PIN pad, PACE in the reader)."""

    def __init__(self, reader: str, feature: str, code: int | None = None) -> None:
        self.reader = reader
        self.feature = feature
        super().__init__(f"The card reader {reader!r} does not offer {feature}.", code)


class MalformedReaderData(ReaderError):
    """A reader answered a control command (PC/SC part 10) with bytes that do not parse."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The card reader sent an answer that could not be understood: {detail}.")


class PinEntryCancelled(ReaderError):
    """The citizen pressed Cancel on the reader's PIN pad."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__("The PIN entry was cancelled on the card reader.", code)


class PinEntryTimeout(ReaderError):
    """Nothing (or not enough) was typed on the reader's PIN pad in time."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__("No PIN was entered on the card reader in time. Please try again.", code)


class PinPadInputRejected(ReaderError):
    """The reader refused what was typed on its PIN pad (PC/SC part 10 §2.5: SW 6402, 6403)."""

    def __init__(self, detail: str, code: int) -> None:
        super().__init__(f"The card reader did not accept the entry: {detail}. Please try again.", code)


class ReaderPaceFailed(ReaderError):
    """PACE run inside the reader failed for a reason other than a wrong or blocked password."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(
            f"The card reader could not open a secure connection to the card ({detail}). "
            "Take the card off the reader, put it back and try again.",
            code,
        )


class PcscError(ReaderError):
    """Any other PC/SC failure, with the service's own description."""

    def __init__(self, operation: str, description: str, code: int) -> None:
        self.operation = operation
        super().__init__(f"The card reader service reported an error during {operation}: {description} "
                         f"(code 0x{code:08X}).", code)
