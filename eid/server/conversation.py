"""One step of the PAOS conversation: a session and a client message in, the next session and the reply out.

Pure: no I/O, clock and randomness from the :class:`~eid.server.states.StepContext`. The rules that hold
in every state live here; what a state accepts lives in its class (eid/server/states.py):

- a finished session accepts nothing more (:class:`ConversationOver`);
- a session whose client missed its deadline ends with ``dp#timeout``;
- every message after StartPAOS must answer our last message: ``wsa:RelatesTo`` equal to the
  ``wsa:MessageID`` we sent last. A replayed, reordered or foreign message ends the session;
- every reply gets a fresh MessageID and relates to the client's message.

The new session carries version + 1, so the store can refuse to save it if another worker processed a
copy of the same message first.
"""

from __future__ import annotations

from eid import paos
from eid.paos import PaosEnvelope, PaosError
from eid.server.result import Failure
from eid.server.session import EidSession
from eid.server.states import StateStartPaos, StepContext, Transition, describe, fail


class ConversationOver(Exception):
    """A message for a session that has already ended."""


def step(session: EidSession, envelope: PaosEnvelope, context: StepContext) -> tuple[EidSession, PaosEnvelope]:
    if session.finished:
        raise ConversationOver(f"session already ended: {session.state.reason}")
    if session.abandoned(context.now()):
        transition = fail("the eID client missed its deadline; the session expired", paos.RESULT_MINOR_TIMEOUT,
                          context, Failure.TIMEOUT)
    elif not isinstance(session.state, StateStartPaos) and envelope.relates_to != session.last_message_id:
        transition = fail(f"{describe(envelope.message)} does not answer the server's last message "
                          "(replayed or out of order)", paos.RESULT_MINOR_PARAMETER_ERROR, context, Failure.CLIENT_ERROR)
    else:
        transition = session.state.receive(envelope.message, session, context)
    return _advance(session, transition, envelope.message_id, describe(envelope.message), context)


def reject_malformed(session: EidSession, error: PaosError, context: StepContext) -> tuple[EidSession, PaosEnvelope]:
    """A body that is no acceptable PAOS message ends the session (TR-03112-7 §2.6: tell the client)."""
    if session.finished:
        raise ConversationOver(f"session already ended: {session.state.reason}")
    transition = fail(f"malformed PAOS message: {error}", paos.RESULT_MINOR_PARAMETER_ERROR, context,
                      Failure.CLIENT_ERROR, message="malformed PAOS message")
    return _advance(session, transition, None, f"malformed ({type(error).__name__})", context)


def _advance(session: EidSession, transition: Transition, relates_to: str | None, received: str,
             context: StepContext) -> tuple[EidSession, PaosEnvelope]:
    reply = PaosEnvelope(transition.reply, paos.new_message_id(context.rng), relates_to)
    new_session = session.advanced(transition.state, context.now(), last_message_id=reply.message_id,
                                   received=(*session.received, received))
    return new_session, reply
