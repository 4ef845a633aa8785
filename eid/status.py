"""Status words (ISO/IEC 7816-4 §5.1.3, BSI TR-03110-3 appendix B) as named errors.

``raise_for_status(sw)`` turns every status word other than 9000 into a :class:`CardError`
subclass. The PIN counter states that MSE:Set AT reports (TR-03110-2 §3.5.1: 63C2 one wrong try,
63C1 suspended, 63C0 blocked, 6283 deactivated) are interpreted by the PACE code, which knows the
context; here 63Cx reads as "verification failed, x tries left".
"""

from __future__ import annotations

from eid.errors import EidError


class CardError(EidError):
    """The card refused a command. ``sw`` is its status word."""

    sw: int = 0x6F00
    text = "the card reported an error"

    def __init__(self, sw: int | None = None, detail: str | None = None) -> None:
        if sw is not None:
            self.sw = sw
        message = f"{self.text} (SW {self.sw:04X})"
        if detail:
            message = f"{detail}: {message}"
        super().__init__(message)


class WrongPin(CardError):
    """A password (PIN, CAN, PUK) was wrong; ``tries_left`` as reported by the card."""

    text = "wrong password"

    def __init__(self, tries_left: int, sw: int | None = None, detail: str | None = None) -> None:
        self.tries_left = tries_left
        super().__init__(0x63C0 | tries_left if sw is None else sw, detail)

    def __str__(self) -> str:
        return f"{super().__str__()}, {self.tries_left} tries left"


class AuthenticationFailed(CardError):
    sw = 0x6300
    text = "authentication failed"


class PinSuspended(CardError):
    """Two wrong PINs: the next PIN attempt needs PACE with the CAN first."""

    sw = 0x63C1
    text = "the PIN is suspended; enter the CAN first"
    need_can = True


class PinBlocked(CardError):
    """Three wrong PINs: only the PUK can unblock it."""

    sw = 0x63C0
    text = "the PIN is blocked; unblock it with the PUK"


class PinDeactivated(CardError):
    """The eID function (online ID) is switched off on this card."""

    sw = 0x6283
    text = "the eID function of this card is deactivated"


class TransportPinActive(CardError):
    """The card still has its 5-digit transport PIN, which must be changed to a 6-digit PIN first."""

    sw = 0x6982
    text = "the transport PIN must be changed to a personal PIN first"


class WrongLength(CardError):
    sw = 0x6700
    text = "wrong length"


class SecureMessagingMissing(CardError):
    sw = 0x6987
    text = "expected secure messaging data objects missing"


class SecureMessagingIncorrect(CardError):
    sw = 0x6988
    text = "incorrect secure messaging data objects"


class SecurityStatusNotSatisfied(CardError):
    sw = 0x6982
    text = "security status not satisfied"


class AuthenticationMethodBlocked(CardError):
    sw = 0x6983
    text = "authentication method blocked"


class ReferenceDataNotUsable(CardError):
    sw = 0x6984
    text = "reference data not usable"


class ConditionsNotSatisfied(CardError):
    sw = 0x6985
    text = "conditions of use not satisfied"


class CommandNotAllowed(CardError):
    sw = 0x6986
    text = "command not allowed"


class WrongData(CardError):
    sw = 0x6A80
    text = "incorrect parameters in the command data"


class FunctionNotSupported(CardError):
    sw = 0x6A81
    text = "function not supported"


class FileNotFound(CardError):
    sw = 0x6A82
    text = "file or application not found"


class RecordNotFound(CardError):
    sw = 0x6A83
    text = "record not found"


class IncorrectParameters(CardError):
    sw = 0x6A86
    text = "incorrect parameters P1-P2"


class ReferenceDataNotFound(CardError):
    sw = 0x6A88
    text = "referenced data not found"


class WrongParameters(CardError):
    sw = 0x6B00
    text = "wrong parameters P1-P2"


class InstructionNotSupported(CardError):
    sw = 0x6D00
    text = "instruction not supported"


class ClassNotSupported(CardError):
    sw = 0x6E00
    text = "class not supported"


class EndOfFile(CardError):
    sw = 0x6282
    text = "end of file reached before reading Ne bytes"


class VerificationNegative(CardError):
    """VERIFY of auxiliary data (age, community ID, validity) answered 'no'."""

    sw = 0x6300
    text = "the verification was negative"


_BY_SW: dict[int, type[CardError]] = {
    cls.sw: cls
    for cls in (
        AuthenticationFailed,
        WrongLength,
        SecureMessagingMissing,
        SecureMessagingIncorrect,
        SecurityStatusNotSatisfied,
        AuthenticationMethodBlocked,
        ReferenceDataNotUsable,
        ConditionsNotSatisfied,
        CommandNotAllowed,
        WrongData,
        FunctionNotSupported,
        FileNotFound,
        RecordNotFound,
        IncorrectParameters,
        ReferenceDataNotFound,
        WrongParameters,
        InstructionNotSupported,
        ClassNotSupported,
        EndOfFile,
        PinDeactivated,
    )
}


def error_for_status(sw: int, detail: str | None = None) -> CardError:
    if sw & 0xFFF0 == 0x63C0:
        return WrongPin(sw & 0x0F, sw, detail)
    cls = _BY_SW.get(sw)
    if cls is None:
        return CardError(sw, detail)
    return cls(sw, detail)


def raise_for_status(sw: int, detail: str | None = None) -> None:
    """Nothing for 9000; the named CardError for every other status word."""
    if sw != 0x9000:
        raise error_for_status(sw, detail)
