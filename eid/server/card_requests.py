"""What the eID-Server asks of the card after Chip Authentication, as a PAOS Transmit batch.

After EAC2 the server holds the secure-messaging keys (the eID client only relays). :class:`CardRequests`
is the plan, derived from the request, the CHAT the citizen released and the card's SecurityInfos, and
small enough to be stored with the session: data groups to read, VERIFY commands (age, community ID,
document validity), Restricted Identification for the pseudonym and — when the terminal has a blocklist of
card identifiers — for the revocation identifier (:mod:`eid.server.blocklist`). :meth:`CardRequests.functions` turns it into card
functions of :mod:`eid.terminal` (request/evaluate pairs); :func:`transmit` protects them into one
Transmit with the status words each command may answer (TR-03112-6 §3.2.5: the client stops the batch at
any other); :func:`evaluate` adds the verified answers to the result being built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from eid import oid
from eid.apdu import ResponseApdu
from eid.chat import AccessRight, Chat
from eid.errors import EidError
from eid.paos import InputApduInfo, Transmit
from eid.restricted_identification import RestrictedIdentification, RestrictedIdentificationResult, SectorPublicKey
from eid.secure_messaging import TerminalChannel
from eid.security_infos import SecurityInfos
from eid.server.request import EidRequest, read_rights
from eid.server.result import EidResult
from eid.terminal import CardFunction, DataGroupsRead, ReadDataGroups, Verify

OK = b"\x90\x00"
END_OF_FILE = b"\x62\x82"
VERIFICATION_FAILED = b"\x63\x00"
SECURITY_STATUS_NOT_SATISFIED = b"\x69\x82"
FILE_NOT_FOUND = b"\x6a\x82"


@dataclass(frozen=True)
class CardRequests:
    data_groups: tuple[int, ...] = ()
    verifications: tuple[str, ...] = ()
    """id-DateOfBirth (age), id-MunicipalityID (community ID), id-DateOfExpiry (validity)."""
    ri_protocol: str | None = None
    ri_key_id: int | None = None
    check_revocation: bool = False
    """The blocklist has card identifiers: the card's revocation identifier must be read and compared."""
    revocation_protocol: str | None = None
    revocation_key_id: int | None = None
    """Restricted Identification with the key that needs no authorization: the identifier a blocklist holds."""

    @classmethod
    def plan(cls, request: EidRequest, released: Chat, infos: SecurityInfos,
             check_revocation: bool = False) -> CardRequests:
        """What to ask the card: the requested rights the citizen released (all of them for a client that
        reports no CHAT), validity verification when requested, and the revocation identifier when
        ``check_revocation`` (a card without a key for it gets none: the blocklist check then fails)."""
        rights = request.rights & released.rights
        verifications = []
        if AccessRight.AGE_VERIFICATION in rights:
            verifications.append(oid.ID_DATE_OF_BIRTH)
        if AccessRight.COMMUNITY_ID_VERIFICATION in rights:
            verifications.append(oid.ID_MUNICIPALITY_ID)
        if request.verify_validity:
            verifications.append(oid.ID_DATE_OF_EXPIRY)
        ri_protocol = ri_key_id = None
        if AccessRight.RESTRICTED_IDENTIFICATION in rights:
            keys = sorted(infos.restricted_identification_infos(), key=lambda info: not info.authorized_only)
            if keys:  # the key reserved for authorized terminals is the eID pseudonym's (TR-03127)
                ri_protocol, ri_key_id = keys[0].protocol, keys[0].key_id
        revocation_protocol = revocation_key_id = None
        if check_revocation:
            for info in infos.restricted_identification_infos():
                if not info.authorized_only:  # the revocation key (TR-03127 §4.4.2, TR-03110-2 §3.6)
                    revocation_protocol, revocation_key_id = info.protocol, info.key_id
                    break
        return cls(read_rights(rights), tuple(verifications), ri_protocol, ri_key_id, check_revocation,
                   revocation_protocol, revocation_key_id)

    def functions(self, sector: SectorPublicKey | None) -> list[CardFunction[Any]]:
        """The card functions, sent as one Transmit batch: reads, verifications, Restricted Identification."""
        functions: list[CardFunction[Any]] = []
        if self.data_groups:
            functions.append(ReadDataGroups(self.data_groups))
        functions += [Verify(v) for v in self.verifications]
        if self.ri_protocol is not None and self.ri_key_id is not None and sector is not None:
            functions.append(RestrictedIdentification(self.ri_protocol, self.ri_key_id, sector))
        if self.revocation_protocol is not None and self.revocation_key_id is not None and sector is not None:
            functions.append(RevocationIdentification(self.revocation_protocol, self.revocation_key_id, sector))
        return functions


@dataclass(frozen=True, slots=True)
class RevocationIdentification(RestrictedIdentification):
    """Restricted Identification with the card's revocation key: the card's sector-specific revocation identifier,
    only for the blocklist check (TR-03127 §5.3.1.2) — it never leaves the eID-Server."""


class Evaluation(NamedTuple):
    result: EidResult
    problems: list[str]
    """The card's refusals, in words."""
    revocation_identifier: bytes | None


def acceptable_status_codes(function: CardFunction[Any]) -> list[tuple[bytes, ...]]:
    """Per command of ``function``: the status words after which the batch goes on."""
    commands = function.request()
    if isinstance(function, ReadDataGroups):
        # a data group the card lacks (or refuses) must not stop the reads after it
        return [(OK,)] + [(OK, END_OF_FILE, FILE_NOT_FOUND, SECURITY_STATUS_NOT_SATISFIED)] * (len(commands) - 1)
    if isinstance(function, Verify):
        return [(OK, VERIFICATION_FAILED)]
    return [(OK,)] * len(commands)


def transmit(channel: TerminalChannel, slot_handle: bytes, functions: Sequence[CardFunction[Any]]) -> Transmit:
    protected = channel.protect_batch([c for f in functions for c in f.request()])
    codes = [code for f in functions for code in acceptable_status_codes(f)]
    return Transmit(slot_handle, tuple(InputApduInfo(c.encode(), accepted) for c, accepted in zip(protected, codes)))


def evaluate(result: EidResult, functions: Sequence[CardFunction[Any]],
             responses: Sequence[ResponseApdu]) -> Evaluation:
    """``result`` with what the (verified, plain) ``responses`` say, the card's refusals in words, and the
    revocation identifier when it was asked for. Fewer responses than commands: the batch stopped early, the
    functions after it have no answer."""
    changes: dict[str, Any] = {}
    contents = dict(result.contents)
    not_read = set(result.not_read)
    problems = []
    revocation_identifier = None
    offset = 0
    for function in functions:
        count = len(function.request())
        share = responses[offset:offset + count]
        offset += count
        if isinstance(function, ReadDataGroups):
            if share:
                read = function.evaluate(share) if share[0].sw == 0x9000 else DataGroupsRead({}, {})
                contents.update(read.contents)
            not_read.update(n for n in function.numbers if n not in contents)
            continue
        if not share:
            problems.append(f"{type(function).__name__}: no answer (the batch stopped before it)")
            continue
        try:
            answer = function.evaluate(share)
        except EidError as error:
            problems.append(f"{type(function).__name__}: {error}")
            continue
        if isinstance(function, RevocationIdentification):
            revocation_identifier = answer.first
        elif isinstance(answer, RestrictedIdentificationResult):
            changes["pseudonym"] = answer.first
        elif isinstance(function, Verify):
            name = {oid.ID_DATE_OF_BIRTH: "age_verified", oid.ID_MUNICIPALITY_ID: "community_id_verified",
                    oid.ID_DATE_OF_EXPIRY: "document_valid"}[function.verification]
            changes[name] = bool(answer)
    updated = dataclasses.replace(result, contents=contents, not_read=tuple(sorted(not_read)), **changes)
    return Evaluation(updated, problems, revocation_identifier)
