"""What the citizen is asked during an online authentication, and how the answers come back.

Before the PIN the eID client must show who asks (the certificate description: provider, its address,
the issuer, the terms of usage), what it asks for (the CHAT's rights, required and optional, and what
the auxiliary data commit to — the age limit, the community, the validity date) and let the citizen
deselect optional rights or cancel (TR-03112-7 §3.6.4.1, TR-03124-1). :class:`Consent` is that request;
a :class:`Citizen` answers it and gives the PIN (and the CAN when the PIN is suspended).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from eid import oid
from eid.auxiliary_data import AuxiliaryData
from eid.chat import AccessRight
from eid.client.checks import Provider
from eid.data_groups import community_id_digits
from eid.pace import PasswordType

RIGHT_NAMES = {
    AccessRight.AGE_VERIFICATION: "age verification (whether you have reached the age limit)",
    AccessRight.COMMUNITY_ID_VERIFICATION: "place of residence verification (whether you live in the community)",
    AccessRight.RESTRICTED_IDENTIFICATION: "pseudonym (a service-specific identifier)",
    AccessRight.CAN_ALLOWED: "use of the card access number",
    AccessRight.READ_DG1: "document type",
    AccessRight.READ_DG2: "issuing state",
    AccessRight.READ_DG3: "date of expiry",
    AccessRight.READ_DG4: "given names",
    AccessRight.READ_DG5: "family name",
    AccessRight.READ_DG6: "religious or artistic name",
    AccessRight.READ_DG7: "doctoral degree",
    AccessRight.READ_DG8: "date of birth",
    AccessRight.READ_DG9: "place of birth",
    AccessRight.READ_DG10: "nationality",
    AccessRight.READ_DG11: "sex",
    AccessRight.READ_DG12: "optional data",
    AccessRight.READ_DG13: "birth name",
    AccessRight.READ_DG14: "written signature",
    AccessRight.READ_DG17: "address",
    AccessRight.READ_DG18: "community ID",
    AccessRight.READ_DG19: "residence permit I",
    AccessRight.READ_DG20: "residence permit II",
    AccessRight.READ_DG21: "phone number",
    AccessRight.READ_DG22: "e-mail address",
}


def right_name(right: AccessRight) -> str:
    return RIGHT_NAMES.get(right, right.name.replace("_", " ").lower())


@dataclass(frozen=True)
class Consent:
    provider: Provider
    required: frozenset[AccessRight]
    optional: frozenset[AccessRight]
    transaction_info: str | None = None
    auxiliary_data: AuxiliaryData | None = None

    @property
    def provider_name(self) -> str:
        return self.provider.description.subject_name

    @property
    def provider_url(self) -> str | None:
        return self.provider.description.subject_url

    @property
    def issuer_name(self) -> str:
        return self.provider.description.issuer_name

    @property
    def terms_of_usage(self) -> str:
        terms = self.provider.description.terms_of_usage
        return terms if isinstance(terms, str) else f"({len(terms)} bytes of PDF terms of usage)"

    @property
    def valid_until(self) -> datetime.date:
        return self.provider.terminal.expiration_date

    def commitments(self) -> list[str]:
        """What the auxiliary data let the card confirm, in words."""
        aux = self.auxiliary_data
        if aux is None:
            return []
        lines = []
        if aux.required_date_of_birth is not None:
            lines.append(f"born on or before {aux.required_date_of_birth.isoformat()}")
        if aux.community_id is not None:
            lines.append(f"living in community {community_id_digits(aux.community_id)}…")
        if aux.value(oid.ID_DATE_OF_EXPIRY) is not None:
            lines.append(f"card valid on {aux.validity_date.isoformat()}")
        return lines

    def describe(self) -> list[str]:
        """The request as lines of text (for a terminal prompt or a log)."""
        lines = [f"Provider: {self.provider_name}" + (f" ({self.provider_url})" if self.provider_url else ""),
                 f"Issued by: {self.issuer_name}, certificate valid until {self.valid_until.isoformat()}"]
        if self.transaction_info:
            lines.append(f"Purpose: {self.transaction_info}")
        lines.append("Required: " + (", ".join(right_name(r) for r in sorted(self.required)) or "nothing"))
        if self.optional:
            lines.append("Optional: " + ", ".join(right_name(r) for r in sorted(self.optional)))
        lines += [f"The card confirms: {line}" for line in self.commitments()]
        lines.append(f"Terms of usage: {self.terms_of_usage}")
        return lines


@dataclass(frozen=True)
class PasswordPrompt:
    kind: PasswordType
    tries_left: int | None = None
    reason: str = ""


class Citizen(Protocol):
    def consent(self, consent: Consent) -> frozenset[AccessRight] | None:
        """The optional rights the citizen keeps (a subset of ``consent.optional``), or None to cancel."""

    def password(self, prompt: PasswordPrompt) -> str | None:
        """The PIN (or CAN), or None to cancel."""
