"""What the eID-Server tests share: the terminal, a settable clock, and both roles of the conversation in-process.

The terminal and the virtual card come from ``tests.support.eid_world`` (one test PKI made by ``eid.pki`` on a
fixed day). :func:`converse` plays our eID client (:mod:`eid.client.states`, with the virtual card) against
the server's state machine without sockets: every message goes through ``paos.serialise``/``paos.parse``
and the session through its JSON after every step, as if each message reached another worker.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from cardreader.virtual import VirtualCard
from eid import paos, pki
from eid.card_profile import CardProfile
from eid.chat import AccessRight
from eid.client.citizen import PreparedCitizen
from eid.client.states import AwaitEac1, ClientContext, Finished, start_paos as client_start_paos
from eid.paos import ApiVersion, ConnectionHandle, Eac1Output, PaosEnvelope, StartPaos, UserAgent
from eid.server import conversation, session
from eid.server.request import EidRequest
from eid.server.session import EidSession
from eid.server.states import StepContext
from eid.server.terminal import EidTerminal
from eid.terminal import CardSession
from tests.support import eid_world

T0 = eid_world.NOW
SUBJECT_URL = "https://localhost:8443"
TC_TOKEN_URL = SUBJECT_URL + "/eid/tctoken/t1"
REQUEST = EidRequest(
    required=frozenset({AccessRight.READ_DG4, AccessRight.READ_DG5}),
    optional=frozenset({AccessRight.READ_DG8, AccessRight.RESTRICTED_IDENTIFICATION, AccessRight.AGE_VERIFICATION}),
    minimum_age=18,
    transaction_info="Bürgerkonto Musterstadt",
)


def terminal(test_pki: pki.TestPki | None = None, **changes) -> EidTerminal:
    """The eid_world terminal as the eID-Server holds it (its description's subjectURL is SUBJECT_URL)."""
    p = test_pki or eid_world.shared_pki()
    values = dict(dv=p.dv, terminal=p.terminal, signer=p.terminal_signer(), certificate_description=p.certificate_description,
                  cscas=(p.csca,), sector=p.sector_public_keys()[0], cvca=p.cvca)
    return EidTerminal(**{**values, **changes})


class Clock:
    def __init__(self, now: datetime.datetime = T0) -> None:
        self.now = now

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


def eac1_output(chat: bytes | None = None, challenge: bytes = b"\xc0" * 8, card_access: bytes | None = None) -> Eac1Output:
    access = card_access if card_access is not None else eid_world.profile().card_access
    return Eac1Output(access, b"\x01" * 32, challenge, chat, ("DETESTeID00005",))


def new_session(context: StepContext, request: EidRequest = REQUEST, use_psk: bool = True) -> EidSession:
    """A session whose TC token was fetched (the transport's part is tested elsewhere)."""
    fresh = session.begin(request=request, refresh_prefix="https://broker.example/eid/refresh?ref=",
                          communication_error_prefix=None, use_psk=use_psk, now=context.now(), rng=context.rng,
                          token_lifetime=datetime.timedelta(minutes=5), lifetime=datetime.timedelta(minutes=15))
    return fresh.next_version(token_fetched=True, deadline=context.now() + session.STEP_TIMEOUT)


Tamper = Callable[[str, PaosEnvelope], PaosEnvelope]


@dataclass
class Run:
    session: EidSession
    client: Finished
    citizen: PreparedCitizen
    card: VirtualCard
    sent: list[PaosEnvelope] = field(default_factory=list)
    """Every client message as the server received it."""
    sessions: list[EidSession] = field(default_factory=list)
    """The session after each step."""


def converse(context: StepContext, *, request: EidRequest = REQUEST, pins: tuple[str, ...] = (eid_world.PIN,),
             deselect: frozenset[AccessRight] = frozenset(), cancel: bool = False,
             profile: CardProfile | None = None, tamper: Tamper | None = None,
             open_card: Callable[[VirtualCard], CardSession] | None = None) -> Run:
    """Our eID client with a virtual card against the server's conversation, to the end."""
    card = eid_world.card(profile)
    citizen = PreparedCitizen.with_passwords(pins, deselect, cancel)
    client = ClientContext(open_card=lambda: (open_card or CardSession)(card), citizen=citizen, rng=eid_world.rng,
                           tc_token_url=TC_TOKEN_URL)
    current = new_session(context, request)
    state = AwaitEac1()
    message: paos.Message = client_start_paos(current.session_identifier, b"\x00")
    relates_to = None
    sent, sessions = [], []
    for _ in range(20):
        envelope = PaosEnvelope(message, paos.new_message_id(eid_world.rng), relates_to)
        if tamper is not None:
            envelope = tamper("client", envelope)
        envelope = paos.parse(paos.serialise(envelope))
        sent.append(envelope)
        current, reply = conversation.step(current, envelope, context)
        current = EidSession.from_json(current.to_json())
        sessions.append(current)
        if tamper is not None:
            reply = tamper("server", reply)
        reply = paos.parse(paos.serialise(reply))
        step = state.receive(reply.message, client)
        state = step.state
        if isinstance(state, Finished):
            return Run(current, state, citizen, card, sent, sessions)
        message, relates_to = step.reply, reply.message_id
    raise AssertionError("the conversation did not end")
