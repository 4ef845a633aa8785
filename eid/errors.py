"""The exceptions of the eID core.

Everything that rejects outside input (card responses, certificates, TLV, protocol messages) raises
a subclass of :class:`EidError` whose message names what was wrong.
"""


class EidError(Exception):
    """Base of every error the eID core raises on bad input or a failed check."""


class MalformedData(EidError):
    """Bytes that do not parse as the structure they claim to be."""


class VerificationFailed(EidError):
    """A signature, MAC, token or chain that does not verify."""
