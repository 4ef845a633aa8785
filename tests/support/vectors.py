"""Known-answer vectors: ``tests/vectors/<name>.json`` with ``values`` (and ``derived``) entries, each
holding ``hex`` (or ``value``) and the ``source`` it comes from."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@cache
def load(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def hex_value(name: str, key: str) -> bytes:
    """The bytes of entry ``key`` in ``values`` or ``derived`` of vector file ``name``."""
    vector = load(name)
    for section in ("values", "derived"):
        entry = vector.get(section, {}).get(key)
        if entry is not None:
            return bytes.fromhex(entry["hex"])
    raise KeyError(f"{key} not in {name}.json")
