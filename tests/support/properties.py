"""Helpers for the property tests of parsers of card data: any input gives a result or one of eid's
own exceptions (subclasses of EidError), never anything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eid.errors import EidError


def result_or_our_error(parse: Callable[..., Any], *arguments: Any) -> Any:
    """``parse(*arguments)``, or None when it raised an EidError; any other exception fails the test."""
    try:
        return parse(*arguments)
    except EidError:
        return None


def corrupt(raw: bytes, position: int, value: int) -> bytes:
    """``raw`` with the byte at ``position`` (modulo its length) replaced by ``value``."""
    changed = bytearray(raw)
    changed[position % len(changed)] = value
    return bytes(changed)
