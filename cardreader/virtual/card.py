"""A virtual German ID card (nPA): the chip side of the eID protocols behind ``transmit``.

Built from a card profile (:mod:`eid.card_profile`, ``card.json``). It keeps

- persistent state, as a real chip would across power cycles: PIN, PIN retry counter (3; at 1 the PIN
  is suspended until PACE with the CAN, at 0 blocked until RESET RETRY COUNTER after PACE with the PUK),
  transport PIN, eID function on or off, trust points (updated by CVCA link certificates) and the chip's
  current date (advanced by certificates, TR-03110-3 §A.7.2.3);
- session state, lost on power off, on a plain command inside secure messaging and on any
  secure-messaging error: the secure-messaging channel, the last PACE, Terminal and Chip Authentication,
  the protocol selected by MSE:Set AT, the current file.

Files (ISO/IEC 7816-4): the MF with EF.CardAccess (011C, SFI 1C; always readable) and EF.CardSecurity
(011D, SFI 1D; after PACE), and the eID application (AID E8 07 04 00 7F 00 07 03 02) with DG1–DG22
(0101…, SFI 1…), readable after Terminal and Chip Authentication with the matching right in the effective
CHAT — otherwise 6982.

Commands: SELECT, READ BINARY, MSE:Set AT (PACE, CA, RI, TA), MSE:Set DST, GENERAL AUTHENTICATE
(PACE, CA, RI), PSO:Verify Certificate, GET CHALLENGE, EXTERNAL AUTHENTICATE, VERIFY (age, community ID,
document validity), RESET RETRY COUNTER (change PIN after PACE with the PIN — the way a transport PIN is
replaced — or unblock after PACE with the PUK), ACTIVATE / DEACTIVATE (eID function, PIN management
right). All protocol work is done by the pure chip-side code in :mod:`eid`.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eid import auxiliary_data, card_profile, oid, restricted_identification, signature
from eid import chip_authentication as ca
from eid import pace as pace_protocol
from eid import terminal_authentication as ta
from eid.apdu import EXTENDED_MAX_NE, SHORT_MAX_NE, ApduError, CommandApdu, ResponseApdu
from eid.card_profile import CardProfile, ChipKey, Passwords
from eid.chat import AccessRight, Chat
from eid.cvc import CvCertificate, ImportedKey
from eid.data_groups import file_id
from eid.domain_parameters import by_standardized_id
from eid.errors import EidError, MalformedData, VerificationFailed
from eid.key_derivation import SessionKeys
from eid.pace import PaceParameters, PaceSelection, Password, PasswordType
from eid.secure_messaging import ChipChannel, MalformedSecureMessaging, SecureMessagingError
from eid.status import CardError

ATR = bytes.fromhex("3B8A80018031F873F741E082900075")
"""The ATR of a German ID card: historical bytes announce command chaining and extended length."""
MF = b"\x3f\x00"
EID_APPLICATION = bytes.fromhex("E80704007F00070302")
EF_CARD_ACCESS = (0x011C, 0x1C)
EF_CARD_SECURITY = (0x011D, 0x1D)

SW_OK = 0x9000

Rng = Callable[[int], bytes]


def _refuse(sw: int, detail: str | None = None) -> CardError:
    """The card's refusal with status word ``sw``; :meth:`VirtualCard.transmit` answers it."""
    return CardError(sw, detail)


@dataclass
class _Session:
    """Everything a power cycle or the end of secure messaging forgets."""

    sm: ChipChannel | None = None
    pace_selection: PaceSelection | None = None
    pace_step: Any = None
    pace: pace_protocol.ChipPaceResult | None = None
    transport_pin: bool = False
    resumed: bool = False
    """PACE with the CAN succeeded in this session: a suspended PIN may be used."""
    confined_chat: Chat | None = None
    ta_state: Any = None
    challenge: bytes | None = None
    """r_PICC of a GET CHALLENGE that came before MSE:Set AT (an eID client's EAC1, TR-03112-7 §3.6.4)."""
    terminal: ta.TerminalAuthenticated | None = None
    chip_authenticated: bool = False
    internal_selection: ca.ChipAuthenticationSelection | None = None
    df: str = "mf"
    ef: int | None = None
    new_keys: SessionKeys | None = None
    """Keys to switch to once the current response is protected with the old ones (PACE, CA)."""


class VirtualCard:
    """The card interface every reader shares: ``transmit``, ``power_on`` (ATR), ``power_off``, ``atr``."""

    def __init__(self, profile: CardProfile, rng: Rng = os.urandom) -> None:
        self._profile = profile
        self._rng = rng
        self._files = {
            "mf": {EF_CARD_ACCESS[0]: profile.card_access, EF_CARD_SECURITY[0]: profile.card_security},
            "eid": {file_id(n): content for n, content in profile.data_groups().items()},
        }
        self._short_ids = {"mf": {EF_CARD_ACCESS[1]: EF_CARD_ACCESS[0], EF_CARD_SECURITY[1]: EF_CARD_SECURITY[0]},
                           "eid": {n: file_id(n) for n in range(1, 32)}}
        self._trust_points = tuple(ImportedKey.trust_point(CvCertificate.parse(t)) for t in profile.trust_points)
        self._session = _Session()
        self.powered = False

    @classmethod
    def from_profile(cls, source: str | Path | CardProfile, rng: Rng = os.urandom) -> VirtualCard:
        """From a CardProfile or the path of a card.json."""
        if isinstance(source, CardProfile):
            return cls(source, rng)
        return cls(card_profile.load(Path(source).read_text(encoding="utf-8")), rng)

    # -- the reader interface --------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return ATR

    def power_on(self) -> bytes:
        self.powered = True
        self._session = _Session()
        return ATR

    def power_off(self) -> None:
        self.powered = False
        self._session = _Session()

    def transmit(self, command: bytes) -> bytes:
        """One command APDU in, one response APDU out."""
        if not self.powered:
            self.power_on()
        try:
            apdu = CommandApdu.parse(command)
        except ApduError:
            return ResponseApdu(b"", 0x6700).encode()
        session = self._session
        if apdu.cla & 0x0C == 0x0C:
            if session.sm is None:
                return ResponseApdu(b"", 0x6988).encode()
            try:
                apdu = session.sm.unprotect_command(apdu)
            except MalformedSecureMessaging:
                self._session = _Session()
                return ResponseApdu(b"", 0x6987).encode()
            except SecureMessagingError:
                self._session = _Session()
                return ResponseApdu(b"", 0x6988).encode()
            response = self._answer(apdu)
            session = self._session
            if session.sm is None:  # the command itself ended the session
                return response.encode()
            protected = session.sm.protect_response(response, odd_ins=bool(apdu.ins & 1))
            if session.new_keys is not None:
                session.sm, session.new_keys = ChipChannel(session.new_keys), None
            return protected.encode()
        if session.sm is not None:
            self._session = _Session()  # TR-03110-3 §F.6: a plain command ends secure messaging
        response = self._answer(apdu)
        session = self._session
        if session.new_keys is not None:
            session.sm, session.new_keys = ChipChannel(session.new_keys), None
        return response.encode()

    # -- inspection (for tests and for saving the card's state) ----------------------------------

    @property
    def passwords(self) -> Passwords:
        return self._profile.passwords

    @property
    def profile(self) -> CardProfile:
        """The profile with the card's current persistent state (passwords, current date)."""
        return self._profile

    @property
    def current_date(self) -> datetime.date:
        return self._profile.current_date

    # -- dispatch --------------------------------------------------------------------------------

    def _answer(self, apdu: CommandApdu) -> ResponseApdu:
        handler = self._handler(apdu)
        if handler is None:
            return ResponseApdu(b"", 0x6D00)
        try:
            return handler(apdu)
        except CardError as refusal:
            return ResponseApdu(b"", refusal.sw)
        except MalformedData:
            return ResponseApdu(b"", 0x6A80)
        except EidError:
            return ResponseApdu(b"", 0x6F00)

    def _handler(self, apdu: CommandApdu) -> Callable[[CommandApdu], ResponseApdu] | None:
        key = (apdu.ins, apdu.p1, apdu.p2)
        if apdu.ins == 0xA4:
            return self._select
        if apdu.ins == 0xB0:
            return self._read_binary
        if apdu.ins == 0x86 and apdu.p1 == apdu.p2 == 0:
            return self._general_authenticate
        return {
            (0x22, 0xC1, 0xA4): self._set_at_pace,
            (0x22, 0x41, 0xA4): self._set_at_internal,
            (0x22, 0x81, 0xA4): self._set_at_terminal,
            (0x22, 0x81, 0xB6): self._set_dst,
            (0x2A, 0x00, 0xBE): self._verify_certificate,
            (0x84, 0x00, 0x00): self._get_challenge,
            (0x82, 0x00, 0x00): self._external_authenticate,
            (0x20, 0x80, 0x00): self._verify,
            (0x2C, 0x02, 0x03): self._reset_retry_counter,
            (0x2C, 0x03, 0x03): self._reset_retry_counter,
            (0x44, 0x10, 0x03): lambda _: self._switch_eid_function(True),
            (0x04, 0x10, 0x03): lambda _: self._switch_eid_function(False),
        }.get(key)

    def _passwords(self, **changes: Any) -> None:
        self._profile = dataclasses.replace(self._profile,
                                            passwords=dataclasses.replace(self._profile.passwords, **changes))

    # -- files -----------------------------------------------------------------------------------

    def _select(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        if apdu.p1 == 0x04:
            if apdu.data != EID_APPLICATION:
                raise _refuse(0x6A82, "unknown application")
            session.df, session.ef = "eid", None
        elif apdu.p1 == 0x00 and apdu.data in (b"", MF):
            session.df, session.ef = "mf", None
        elif apdu.p1 in (0x00, 0x02) and len(apdu.data) == 2:
            fid = int.from_bytes(apdu.data, "big")
            if fid not in self._files[session.df]:
                raise _refuse(0x6A82)
            session.ef = fid
        else:
            raise _refuse(0x6A86)
        return ResponseApdu(b"", SW_OK)

    def _read_binary(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        if apdu.p1 & 0x80:
            fid = self._short_ids[session.df].get(apdu.p1 & 0x1F)
            offset = apdu.p2
            if fid is None or fid not in self._files[session.df]:
                raise _refuse(0x6A82)
            session.ef = fid
        else:
            if session.ef is None:
                raise _refuse(0x6986, "no current file")
            fid, offset = session.ef, (apdu.p1 << 8) | apdu.p2
        self._check_read_access(session.df, fid)
        content = self._files[session.df][fid]
        if offset > len(content):
            raise _refuse(0x6B00)
        limit = apdu.ne or 0
        data = content[offset:offset + limit]
        as_much_as_possible = limit in (SHORT_MAX_NE, EXTENDED_MAX_NE)
        return ResponseApdu(data, SW_OK if as_much_as_possible or len(data) == limit else 0x6282)

    def _check_read_access(self, df: str, fid: int) -> None:
        session = self._session
        if df == "mf":
            if fid == EF_CARD_SECURITY[0] and session.pace is None:
                raise _refuse(0x6982, "EF.CardSecurity needs PACE")
            return
        if session.terminal is None or not session.chip_authenticated:
            raise _refuse(0x6982, "data groups need Terminal and Chip Authentication")
        if not session.terminal.effective_chat.allows_read(fid - 0x0100):
            raise _refuse(0x6982, f"no right to read DG{fid - 0x0100}")

    # -- PACE ------------------------------------------------------------------------------------

    def _stored_password(self, kind: PasswordType) -> Password:
        p = self._profile.passwords
        if kind is PasswordType.PIN:
            return Password(kind, p.pin)
        if kind is PasswordType.CAN:
            return Password(kind, p.can)
        if kind is PasswordType.PUK:
            return Password(kind, p.puk)
        person = self._profile.person
        if not person.date_of_birth.complete:
            raise _refuse(0x6A88, "no MRZ password for an incomplete date of birth")
        return Password.from_mrz(self._profile.document_number, person.date_of_birth.to_date().strftime("%y%m%d"),
                                 person.date_of_expiry.strftime("%y%m%d"))

    def _set_at_pace(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        selection = PaceSelection.parse(apdu.data)
        profile = self._profile
        if selection.protocol != profile.pace_protocol or selection.parameter_id not in (None,
                                                                                         profile.pace_parameter_id):
            raise _refuse(0x6A80, "PACE protocol or domain parameters not supported")
        if selection.chat is not None:
            Chat.parse(selection.chat)
        session.pace_selection, session.pace_step = selection, None
        session.internal_selection = None
        if selection.password_type is PasswordType.PIN:
            p = profile.passwords
            if not p.eid_activated:
                return ResponseApdu(b"", 0x6283)
            if p.pin_retries < card_profile.PIN_RETRIES:
                return ResponseApdu(b"", 0x63C0 | p.pin_retries)
        return ResponseApdu(b"", SW_OK)

    def _general_authenticate(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        if session.internal_selection is not None:
            return self._general_authenticate_internal(apdu)
        selection = session.pace_selection
        if selection is None:
            raise _refuse(0x6985, "GENERAL AUTHENTICATE without MSE:Set AT")
        step = session.pace_step
        if step is None:
            step = self._begin_pace(selection)
        try:
            data, step = step.respond(apdu.data)
        except pace_protocol.PaceAuthenticationFailed:
            session.pace_selection, session.pace_step = None, None
            return self._wrong_password(selection.password_type)
        except MalformedData:
            session.pace_selection, session.pace_step = None, None
            raise
        if isinstance(step, pace_protocol.ChipPaceResult):
            self._pace_established(step)
        else:
            session.pace_step = step
        return ResponseApdu(data, SW_OK)

    def _begin_pace(self, selection: PaceSelection) -> Any:
        session = self._session
        kind = selection.password_type
        if kind is PasswordType.PIN:
            p = self._profile.passwords
            if not p.eid_activated:
                raise _refuse(0x6984, "the PIN (eID function) is deactivated")
            if p.pin_retries == 0:
                raise _refuse(0x6983, "the PIN is blocked")
            if p.pin_retries == 1 and not session.resumed:
                raise _refuse(0x6985, "the PIN is suspended: PACE with the CAN first")
        parameters = PaceParameters(selection.protocol, self._profile.pace_parameter_id)
        cars = tuple(reversed([point.chr for point in self._trust_points]))[:2]
        return pace_protocol.chip_start(selection, parameters, self._stored_password(kind), self._rng, cars)

    def _wrong_password(self, kind: PasswordType) -> ResponseApdu:
        if kind is not PasswordType.PIN:
            return ResponseApdu(b"", 0x6300)
        retries = max(self._profile.passwords.pin_retries - 1, 0)
        self._passwords(pin_retries=retries)
        return ResponseApdu(b"", 0x63C0 | retries)

    def _pace_established(self, result: pace_protocol.ChipPaceResult) -> None:
        session = self._session
        kind = result.password_type
        if kind is PasswordType.PIN:
            self._passwords(pin_retries=card_profile.PIN_RETRIES)
        resumed = session.resumed or kind is PasswordType.CAN
        sm = session.sm
        self._session = _Session(sm=sm, pace=result, resumed=resumed, df=session.df,
                                 transport_pin=kind is PasswordType.PIN and self._profile.passwords.transport_pin,
                                 confined_chat=Chat.parse(result.chat) if result.chat is not None else None,
                                 new_keys=result.keys)

    # -- Terminal Authentication -----------------------------------------------------------------

    def _require_eid_session(self) -> _Session:
        session = self._session
        if session.pace is None:
            raise _refuse(0x6982, "PACE first")
        if session.transport_pin:
            raise _refuse(0x6982, "the transport PIN must be changed first")
        if not self._profile.passwords.eid_activated:
            raise _refuse(0x6982, "the eID function is deactivated")
        return session

    def _ta_step(self, step: Callable[[], Any]) -> ResponseApdu:
        """Advance the chip's Terminal Authentication state; B's errors become TA status words."""
        try:
            self._session.ta_state = step()
        except CardError:
            raise
        except EidError as error:
            raise _refuse(ta.status_word(error), str(error)) from None
        return ResponseApdu(b"", SW_OK)

    def _set_dst(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        if session.terminal is not None:
            raise _refuse(0x6982, "Terminal Authentication was already performed")
        if not isinstance(session.ta_state, ta.CertificateImport):
            session.ta_state = ta.CertificateImport(self._trust_points, self._profile.current_date,
                                                    session.confined_chat)
        state = session.ta_state
        return self._ta_step(lambda: state.set_dst(apdu.data))

    def _verify_certificate(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        if not isinstance(session.ta_state, ta.CertificateImport):
            raise _refuse(0x6985, "PSO:Verify Certificate without MSE:Set DST")
        state = session.ta_state
        return self._ta_step(lambda: state.verify_certificate(apdu.data))

    def _set_at_terminal(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        if not isinstance(session.ta_state, ta.CertificateImport):
            raise _refuse(0x6985, "MSE:Set AT for TA before the certificates")
        state = session.ta_state
        return self._ta_step(lambda: state.set_at(apdu.data))

    def _get_challenge(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        if session.terminal is not None:
            raise _refuse(0x6985, "Terminal Authentication was already performed")
        if isinstance(session.ta_state, ta.AuthenticationSelected):
            session.ta_state = session.ta_state.get_challenge(self._rng)
            return ResponseApdu(session.ta_state.r_picc, SW_OK)
        # An eID client fetches r_PICC right after PACE, for EAC1OutputType, and sends the certificates and
        # MSE:Set AT only with EAC2 (TR-03112-7 §3.6.4, as AusweisApp does): keep it for EXTERNAL AUTHENTICATE.
        session.challenge = self._rng(ta.CHALLENGE_LENGTH)
        return ResponseApdu(session.challenge, SW_OK)

    def _external_authenticate(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        state = session.ta_state
        if isinstance(state, ta.AuthenticationSelected) and session.challenge is not None:
            early, session.challenge = session.challenge, None
            state = state.get_challenge(lambda _: early)
        if not isinstance(state, ta.ChallengeIssued) or session.pace is None:
            raise _refuse(0x6985, "EXTERNAL AUTHENTICATE before GET CHALLENGE")
        session.ta_state = None
        try:
            authenticated = state.external_authenticate(apdu.data, session.pace.id_picc)
        except EidError as error:
            raise _refuse(ta.status_word(error), str(error)) from None
        if (session.pace.password_type is PasswordType.CAN and session.confined_chat is not None
                and AccessRight.CAN_ALLOWED not in authenticated.effective_chat):
            raise _refuse(0x6982, "PACE with the CAN needs the CAN-allowed right")
        session.terminal = authenticated
        self._trust_points = authenticated.trust_points
        self._profile = dataclasses.replace(self._profile, current_date=authenticated.current_date)
        return ResponseApdu(b"", SW_OK)

    # -- Chip Authentication and Restricted Identification ---------------------------------------

    def _set_at_internal(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        selection = ca.ChipAuthenticationSelection.parse(apdu.data)
        if session.terminal is None:
            raise _refuse(0x6982, "Terminal Authentication first")
        if selection.protocol.startswith(oid.ID_CA + "."):
            key = self._profile.chip_authentication
            if selection.protocol != key.protocol or selection.key_id not in (None, key.key_id):
                raise _refuse(0x6A88, "no such Chip Authentication key")
        elif selection.protocol.startswith(oid.ID_RI + "."):
            if not session.chip_authenticated:
                raise _refuse(0x6982, "Chip Authentication first")
            key = self._ri_key(selection)
            if key.authorized_only and AccessRight.RESTRICTED_IDENTIFICATION not in session.terminal.effective_chat:
                raise _refuse(0x6982, "no right for Restricted Identification")
        else:
            raise _refuse(0x6A80, "unknown protocol")
        session.internal_selection = selection
        session.pace_selection = None
        return ResponseApdu(b"", SW_OK)

    def _ri_key(self, selection: ca.ChipAuthenticationSelection) -> ChipKey:
        for key in self._profile.restricted_identification:
            if key.protocol == selection.protocol and key.key_id == selection.key_id:
                return key
        raise _refuse(0x6A88, "no such Restricted Identification key")

    def _general_authenticate_internal(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        selection = session.internal_selection
        assert selection is not None and session.terminal is not None
        session.internal_selection = None
        if selection.protocol.startswith(oid.ID_CA + "."):
            key = self._profile.chip_authentication
            try:
                answer = ca.chip_respond(key.protocol, by_standardized_id(key.parameter_id), key.private_key,
                                         apdu.data, self._rng, session.terminal.compressed_ephemeral_key)
            except VerificationFailed as error:
                raise _refuse(0x6A80, str(error)) from None
            session.chip_authenticated = True
            session.new_keys = answer.keys
            return ResponseApdu(answer.data, SW_OK)
        key = self._ri_key(selection)
        first, second = restricted_identification.parse_sector_keys(apdu.data)
        hashes = session.terminal.sector_hashes
        algorithm = session.terminal.terminal.public_key.algorithm
        for sector, expected in ((first, hashes[0]), (second, hashes[1])):
            if sector is not None and (expected is None or
                                       signature.digest(algorithm, sector.public_key_data_object()) != expected):
                raise _refuse(0x6982, "sector public key is not the one in the terminal certificate")
        data = restricted_identification.chip_respond(key.protocol, by_standardized_id(key.parameter_id),
                                                      key.private_key, first, second)
        return ResponseApdu(data, SW_OK)

    # -- auxiliary data verification -------------------------------------------------------------

    def _verify(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._require_eid_session()
        if session.terminal is None or not session.chip_authenticated:
            raise _refuse(0x6982, "VERIFY needs Terminal and Chip Authentication")
        which = auxiliary_data.parse_verify_command(apdu.data)
        needed = {oid.ID_DATE_OF_BIRTH: AccessRight.AGE_VERIFICATION,
                  oid.ID_MUNICIPALITY_ID: AccessRight.COMMUNITY_ID_VERIFICATION}.get(which)
        if needed is not None and needed not in session.terminal.effective_chat:
            raise _refuse(0x6982, f"no right for {needed.name}")
        aux = session.terminal.aux_data
        if aux is None:
            raise _refuse(0x6A88, "no authenticated auxiliary data")
        person = self._profile.person
        try:
            ok = auxiliary_data.verify(aux, which, latest_date_of_birth=person.date_of_birth.latest(),
                                       date_of_expiry=person.date_of_expiry, community_id=person.community_id)
        except auxiliary_data.NotCommitted as error:
            raise _refuse(0x6A88, str(error)) from None
        return ResponseApdu(b"", SW_OK if ok else 0x6300)

    # -- PIN management --------------------------------------------------------------------------

    def _pin_management_allowed(self) -> bool:
        terminal = self._session.terminal
        return (terminal is not None and self._session.chip_authenticated
                and AccessRight.PIN_MANAGEMENT in terminal.effective_chat)

    def _reset_retry_counter(self, apdu: CommandApdu) -> ResponseApdu:
        session = self._session
        used = session.pace.password_type if session.pace is not None else None
        if apdu.p1 == 0x02:
            if used not in (PasswordType.PIN, PasswordType.PUK) and not self._pin_management_allowed():
                raise _refuse(0x6982, "changing the PIN needs PACE with the PIN or PUK")
            new_pin = apdu.data.decode("latin-1")
            if len(new_pin) != 6 or not new_pin.isdigit():
                raise _refuse(0x6A80, "a PIN has 6 digits")
            self._passwords(pin=new_pin, transport_pin=False, pin_retries=card_profile.PIN_RETRIES)
            session.transport_pin = False
        else:
            if apdu.data:
                raise _refuse(0x6A80, "unblocking takes no data")
            if used is not PasswordType.PUK and not self._pin_management_allowed():
                raise _refuse(0x6982, "unblocking the PIN needs PACE with the PUK")
            self._passwords(pin_retries=card_profile.PIN_RETRIES)
        return ResponseApdu(b"", SW_OK)

    def _switch_eid_function(self, activated: bool) -> ResponseApdu:
        """ACTIVATE / DEACTIVATE of the PIN, i.e. of the eID function (TR-03110-3 §B.14.12–13)."""
        if not self._pin_management_allowed():
            raise _refuse(0x6982, "switching the eID function needs the PIN management right")
        self._passwords(eid_activated=activated)
        return ResponseApdu(b"", SW_OK)
