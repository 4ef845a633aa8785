"""The Dynamic Authentication Data object (tag 7C) that General Authenticate carries both ways.

PACE, Chip Authentication and Restricted Identification put their protocol data objects into it
(TR-03110-3 §B.14.2). :func:`parse` checks which context-specific tags may and must occur.
"""

from __future__ import annotations

from eid.errors import MalformedData
from eid.tlv import TlvError, decode_single, encode

TAG = 0x7C


def build(*objects: bytes) -> bytes:
    """7C { objects… } from already encoded data objects."""
    return encode(TAG, objects)


def parse(data: bytes, required: tuple[int, ...], optional: tuple[int, ...] = (),
          error: type[MalformedData] = MalformedData, at_least_one: bool = False) -> dict[int, bytes]:
    """The values of a 7C object by tag: each ``required`` tag exactly once, ``optional`` ones at most once,
    nothing else; ``error`` (a MalformedData subclass) names what was wrong."""
    try:
        children = decode_single(data, TAG).children
    except TlvError as exc:
        raise error(f"dynamic authentication data: {exc}") from None
    values: dict[int, bytes] = {}
    for child in children:
        if child.tag not in required and child.tag not in optional:
            raise error(f"unexpected tag {child.tag:X} in dynamic authentication data")
        if child.tag in values:
            raise error(f"tag {child.tag:X} repeated in dynamic authentication data")
        values[child.tag] = child.value
    missing = [f"{t:X}" for t in required if t not in values]
    if missing:
        raise error(f"dynamic authentication data lacks tag {', '.join(missing)}")
    if at_least_one and not values:
        raise error("dynamic authentication data is empty")
    return values
