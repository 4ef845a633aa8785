"""What the eID-Server tests share: a terminal configuration, a settable clock, client messages."""

import datetime
import itertools

from eid.chat import AccessRight, authentication_terminal
from eid.paos import ApiVersion, ConnectionHandle, Eac1Output, PaosEnvelope, StartPaos, UserAgent
from eid.server.terminal import TerminalConfig

T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
TERMINAL = TerminalConfig(
    certificates=(b"\x7f\x21\x01dv", b"\x7f\x21\x02at"),
    certificate_description=b"\x30\x00",
    required_chat=authentication_terminal([AccessRight.READ_DG4, AccessRight.READ_DG5]),
    optional_chat=authentication_terminal([AccessRight.READ_DG8]),
    transaction_info="Bürgerkonto Musterstadt",
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now


def counter_rng():
    counter = itertools.count()
    return lambda n: bytes((next(counter) + i) % 256 for i in range(n))


def start_paos(session_identifier: str, message_id: str = "urn:uuid:c1") -> PaosEnvelope:
    return PaosEnvelope(StartPaos(
        session_identifier=session_identifier,
        connection_handles=(ConnectionHandle(card_application=bytes.fromhex("e80704007f00070302"), slot_handle=b"\x00"),),
        user_agent=UserAgent("AusweisApp2", 1, 26, 2),
        supported_api_versions=(ApiVersion(1, 1, 5),),
    ), message_id)


def eac1_output(chat: bytes | None = None, challenge: bytes = b"\xc0" * 8) -> Eac1Output:
    return Eac1Output(b"\x31\x00", b"\x01" * 32, challenge, chat, ("DETESTeID00005",))
