"""BSI TR-03110 / ICAO 9303 protocols of the German ID card as pure code.

Everything in this package except ``eid.server`` and ``eid.client`` is free of I/O: bytes and
dataclasses in, bytes and dataclasses out; randomness (``rng(n) -> bytes``) and time (``now()``)
are parameters.
"""
