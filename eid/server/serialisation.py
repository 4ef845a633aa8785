"""Plain JSON values for the eID-Server's frozen dataclasses (sessions, protocol states, results).

A session is continued by whichever worker gets the next PAOS message, so everything the server keeps
between two messages must survive a round trip through JSON. :func:`dump` turns a dataclass (and what it
holds: bytes as hex, enums by value, datetimes in ISO 8601, tuples, frozensets and dicts) into JSON values;
:func:`load` rebuilds it from the field types. Secrets (PSK, ephemeral keys, session keys) are stored as
they are: a database adapter must encrypt the row (see eid/server/session.py).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import types
import typing
from typing import Any


class SerialisationError(ValueError):
    """Stored JSON that does not fit the type it should rebuild."""


def dump(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(dump(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(dump(k)): dump(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot store a {type(value).__name__}")


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of dataclass ``cls``."""
    return typing.get_type_hints(cls)


def load(hint: Any, data: Any) -> Any:
    """The value of type ``hint`` that :func:`dump` turned into ``data``."""
    try:
        return _load(hint, data)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, SerialisationError):
            raise
        raise SerialisationError(f"stored value does not fit {hint}: {error}") from None


def _load(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if data is None:
            if len(options) < len(typing.get_args(hint)):
                return None
            raise SerialisationError(f"None where {hint} was stored")
        if len(options) != 1:
            raise SerialisationError(f"ambiguous stored type {hint}")
        return _load(options[0], data)
    if origin is tuple:
        element = typing.get_args(hint)[0]
        return tuple(_load(element, v) for v in _list(data))
    if origin is frozenset:
        element = typing.get_args(hint)[0]
        return frozenset(_load(element, v) for v in _list(data))
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        if not isinstance(data, dict):
            raise SerialisationError("a stored mapping must be an object")
        return {_load(key_type, k): _load(value_type, v) for k, v in data.items()}
    if hint is Any:
        return data
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint(data)
        if hint is bytes:
            if not isinstance(data, str):
                raise SerialisationError("stored bytes must be hex text")
            return bytes.fromhex(data)
        if hint is datetime.datetime:
            return datetime.datetime.fromisoformat(data)
        if hint is bool:
            if not isinstance(data, bool):
                raise SerialisationError("a stored flag must be true or false")
            return data
        if hint is int:
            if isinstance(data, str):
                return int(data)
            if not isinstance(data, int) or isinstance(data, bool):
                raise SerialisationError("a stored number must be an integer")
            return data
        if hint is str:
            if not isinstance(data, str):
                raise SerialisationError("stored text must be a string")
            return data
        if dataclasses.is_dataclass(hint):
            if not isinstance(data, dict):
                raise SerialisationError(f"a stored {hint.__name__} must be an object")
            hints = field_types(hint)
            # a field added later (with a default) may be missing from what an older version stored
            return hint(**{f.name: _load(hints[f.name], data[f.name])
                           for f in dataclasses.fields(hint) if f.init and (f.name in data or not _has_default(f))})
    raise SerialisationError(f"cannot rebuild a {hint}")


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _list(data: Any) -> list:
    if not isinstance(data, list):
        raise SerialisationError("a stored sequence must be a list")
    return data
