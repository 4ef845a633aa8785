"""APDU traces that never show a PIN, CAN or PUK — pure formatting, no I/O of its own.

What carries a password on the wire:

- VERIFY (INS 20), CHANGE REFERENCE DATA (INS 24) and RESET RETRY COUNTER (INS 2C) put a PIN in their
  data — in plain, or encrypted under secure messaging (CLA 0C, the instruction stays visible). Their
  data field is masked either way. (PACE's GENERAL AUTHENTICATE carries values computed from the
  password, not the password; they are shown.)
- PC/SC part 10 EstablishPACEChannel input may carry a CAN (or, on non-certified readers, a PIN): its
  password field is masked.
"""

from __future__ import annotations

from collections.abc import Callable

from cardreader.channel import CardChannel
from cardreader.errors import MalformedReaderData
from cardreader.part10 import EstablishPaceChannelInput, PaceFunction
from eid.apdu import ApduError, CommandApdu

PASSWORD_INSTRUCTIONS = {0x20: "VERIFY", 0x24: "CHANGE REFERENCE DATA", 0x2C: "RESET RETRY COUNTER"}
MASK = "<masked>"


def describe_command(command: bytes) -> str:
    """Hex of a command APDU with the data of password-carrying instructions replaced by a marker."""
    if len(command) < 5 or command[1] not in PASSWORD_INSTRUCTIONS:
        return command.hex().upper()
    try:
        apdu = CommandApdu.parse(command)
    except ApduError:
        return f"{command[:4].hex().upper()} {MASK} ({len(command) - 4} bytes, not a valid APDU)"
    if not apdu.data:
        return command.hex().upper()
    ne = "" if apdu.ne is None else f" Ne={apdu.ne}"
    return (f"{apdu.header.hex().upper()} {MASK} ({len(apdu.data)} bytes of "
            f"{PASSWORD_INSTRUCTIONS[apdu.ins]} data){ne}")


def describe_response(response: bytes) -> str:
    if len(response) < 2:
        return response.hex().upper() or "(empty)"
    return f"{response[:-2].hex().upper()} {response[-2:].hex().upper()}".lstrip()


def describe_control(code: int, data: bytes) -> str:
    """An SCardControl input; an EstablishPACEChannel request is shown field by field, password masked."""
    if len(data) >= 3 and data[0] == PaceFunction.ESTABLISH_PACE_CHANNEL:
        try:
            request = EstablishPaceChannelInput.parse(data[3:])
        except MalformedReaderData:
            return f"control 0x{code:08X} EstablishPACEChannel {MASK} ({len(data)} bytes)"
        secret = f"{MASK} ({len(request.password)} digits)" if request.password else "typed on the reader"
        return (f"control 0x{code:08X} EstablishPACEChannel {request.password_id.name}, password {secret}, "
                f"CHAT {request.chat.hex().upper() or '-'}, "
                f"certificate description {len(request.certificate_description)} bytes")
    return f"control 0x{code:08X} {data.hex().upper()}"


class TracedChannel:
    """A card channel that counts exchanges and, given ``write``, writes each one masked."""

    def __init__(self, channel: CardChannel, write: Callable[[str], None] | None = None) -> None:
        self.channel = channel
        self.write = write
        self.exchanges = 0

    def transmit(self, command: bytes) -> bytes:
        if self.write is not None:
            self.write(f"> {describe_command(command)}")
        response = self.channel.transmit(command)
        self.exchanges += 1
        if self.write is not None:
            self.write(f"< {describe_response(response)}")
        return response
