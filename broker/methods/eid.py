"""The online function of the German ID card (eID): assurance level high.

amr values (RFC 8176 §2): ``hwk`` — proof of possession of a hardware-secured key (the chip proves its
key in Chip Authentication, and its data are signed under the document PKI, checked by passive
authentication); ``sc`` — a smart card; ``pin`` — the card opens only with the citizen's PIN (PACE);
``mfa`` — two independent factors, the card (possession) and the PIN (knowledge). The eID-Server, not the
eID client, checks the chip (see eid.server.result.ServerChecks); the event is recorded only for a result
it verified.
"""

from __future__ import annotations

from broker.assurance import Level
from broker.methods import AuthenticationMethod


class EidMethod(AuthenticationMethod):
    name = "eid"
    level = Level.HIGH
    amr = ("hwk", "sc", "pin", "mfa")
